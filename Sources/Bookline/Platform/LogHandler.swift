import Foundation
import Logging
import Synchronization

/// One line per event on standard error: `2026-11-25T14:11:27Z info bookline: message k=v ...`.
/// Cheaper than swift-log's StreamLogHandler on the request path (the access log writes a line
/// per request): the timestamp is formatted once a second, and each line is a single write(2).
public struct BooklineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let fileDescriptor: Int32

    public init(label: String, level: Logger.Level, fileDescriptor: Int32 = STDERR_FILENO) {
        self.label = label
        self.logLevel = level
        self.fileDescriptor = fileDescriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = Clock.shared.timestamp()
        line += " \(event.level) \(label): \(event.message)"
        let fields: Logger.Metadata
        switch (event.metadata, metadata.isEmpty) {
        case (nil, _): fields = metadata
        case (let event?, true): fields = event
        case (let event?, false): fields = metadata.merging(event) { _, new in new }
        }
        for key in fields.keys.sorted() {
            line += " \(key)=\(fields[key]!)"
        }
        line += "\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { buffer in
            write(fileDescriptor, buffer.baseAddress, buffer.count)
        }
    }

    /// The current second as ISO-8601, reformatted only when the second changes.
    final class Clock: Sendable {
        static let shared = Clock()
        private let cached = Mutex<(second: Int, text: String)>((-1, ""))

        func timestamp() -> String {
            let now = Date()
            let second = Int(now.timeIntervalSince1970)
            return cached.withLock { cached in
                if cached.second != second {
                    cached = (second, now.formatted(.iso8601))
                }
                return cached.text
            }
        }
    }
}
