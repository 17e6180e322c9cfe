import BooklineCore
import Foundation
import Logging
import Metrics
import Synchronization

/// A critical alert about to be sent.
public struct Alert: Sendable, Equatable {
    /// `error_rate`, or `critical:<error type>` for a critical error.
    public let type: String
    public let title: String
    public let message: String
    /// Alerts of this type held back since the last one was sent.
    public let suppressed: Int
    public let at: Date
}

/// The one way errors are recorded: scrubbed of secrets, counted, logged, stored in
/// `error_logs` (or, when the database cannot take it, written to the log in full so it is
/// never lost silently), and turned into critical alerts: more than `threshold` errors within
/// `window`, or any critical error. Alerts of one type go out at most once per `alertInterval`;
/// the next one says how many were held back. Counting is per instance.
public final class ErrorMonitor: Sendable {
    public static let window: TimeInterval = 300
    public static let threshold = 10
    public static let alertInterval: TimeInterval = 900
    static let insertTimeout: Duration = .seconds(2)

    let database: Database
    let logger: Logger
    let now: @Sendable () -> Date
    let notifier: any AlertNotifier
    private let state = Mutex(State())

    struct State {
        var recent: [Date] = []
        var lastAlert: [String: Date] = [:]
        var suppressed: [String: Int] = [:]
    }

    public init(database: Database, logger: Logger, now: @escaping @Sendable () -> Date, notifier: any AlertNotifier) {
        self.database = database
        self.logger = logger
        self.now = now
        self.notifier = notifier
    }

    /// Never throws and never loses the error. Returns the alerts it raised (already on their way).
    @discardableResult
    public func record(_ report: ErrorReport) async -> [Alert] {
        var report = report
        report.message = Self.scrub(report.message)
        report.context = Redaction.redact(report.context).mapValues(Self.scrub)
        let at = now()
        Counter(label: "bookline_errors_total", dimensions: [("severity", report.severity.rawValue)]).increment()
        let metadata: Logger.Metadata = [
            "service": "\(report.service)", "error_type": "\(report.errorType)", "severity": "\(report.severity.rawValue)",
            "tenant_id": "\(report.tenantId ?? "-")", "request_id": "\(report.requestId ?? "-")",
        ]
        do {
            try await withTimeout(Self.insertTimeout) { [database, report] in
                try await ErrorLogStore().insert(report, id: Identifier.make(now: at), now: at, on: database.sql)
            }
            logger.log(level: report.severity.logLevel, "\(report.message)", metadata: metadata)
        } catch {
            var full = metadata
            full["context"] = "\(report.context)"
            full["store_error"] = "\(TransientError.kind(of: error))"
            logger.error("[ERROR LOG FALLBACK] \(report.message)", metadata: full)
        }
        let alerts = decideAlerts(for: report, at: at)
        for alert in alerts {
            logger.critical("[CRITICAL ALERT] \(alert.title): \(alert.message)", metadata: ["alert_type": "\(alert.type)", "suppressed": "\(alert.suppressed)"])
            let notifier = notifier
            Task { await notifier.send(alert) }
        }
        return alerts
    }

    func decideAlerts(for report: ErrorReport, at: Date) -> [Alert] {
        state.withLock { state in
            state.recent.append(at)
            state.recent.removeAll { at.timeIntervalSince($0) >= Self.window }
            var candidates: [(String, String, String)] = []
            if report.severity == .critical {
                candidates.append(("critical:\(report.errorType)", "Critical error: \(report.errorType)",
                                   "\(report.service): \(report.message)"))
            }
            if state.recent.count > Self.threshold {
                candidates.append(("error_rate", "Error rate",
                                   "\(state.recent.count) errors in the last \(Int(Self.window / 60)) minutes; latest \(report.errorType) in \(report.service)"))
            }
            return candidates.compactMap { type, title, message in
                if let last = state.lastAlert[type], at.timeIntervalSince(last) < Self.alertInterval {
                    state.suppressed[type, default: 0] += 1
                    Counter(label: "bookline_alerts_suppressed_total", dimensions: [("type", String(type.prefix(while: { $0 != ":" })))]).increment()
                    return nil
                }
                state.lastAlert[type] = at
                let suppressed = state.suppressed.removeValue(forKey: type) ?? 0
                Counter(label: "bookline_alerts_total", dimensions: [("type", String(type.prefix(while: { $0 != ":" })))]).increment()
                return Alert(type: type, title: title, message: message, suppressed: suppressed, at: at)
            }
        }
    }

    /// Removes what looks like a credential from free text: URL passwords, API keys, bearer tokens.
    static func scrub(_ text: String) -> String {
        var text = String(text.prefix(1000))
        let patterns = [
            (#"://[^/\s:@]+:[^/\s@]+@"#, "://[redacted]@"),
            (#"bk_(live|test)_[A-Za-z0-9]+"#, "bk_$1_[redacted]"),
            (#"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"#, "$1 [redacted]"),
            (#"(?i)(password|secret|token)=[^&\s]+"#, "$1=[redacted]"),
        ]
        for (pattern, replacement) in patterns {
            text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return text
    }
}

extension ErrorSeverity {
    var logLevel: Logger.Level {
        switch self {
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}
