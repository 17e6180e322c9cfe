import Foundation
import Hummingbird
import NIOCore

/// `bookline bench export`: seeds one tenant with N calls (as the analytics benchmark does),
/// then streams its whole export as JSON and as a zip, reporting time, rows per second and how
/// far the process's resident memory rose while streaming (constant memory is the point).
public struct ExportBenchmark: Sendable {
    public struct Result: Sendable {
        public let calls: Int
        public let seedSeconds: Double
        public let jsonSeconds: Double
        public let jsonBytes: Int
        public let zipSeconds: Double
        public let zipBytes: Int
        public let rssGrowthMB: Double

        public var summary: String {
            String(format: """
                %d calls seeded in %.1f s
                JSON: %.1f s (%.0f rows/s), %.1f MB streamed
                zip:  %.1f s, %.1f MB archive
                resident memory rose by at most %.1f MB while streaming
                """, calls, seedSeconds, jsonSeconds, Double(calls) / max(jsonSeconds, 0.001), Double(jsonBytes) / 1e6,
                zipSeconds, Double(zipBytes) / 1e6, rssGrowthMB)
        }
    }

    let services: AppServices

    public init(services: AppServices) {
        self.services = services
    }

    public func run(calls: Int) async throws -> Result {
        let now = services.now()
        let tenant = try await services.tenants.create(.init(businessName: "Export Bench"), now: now)
        let seedStart = ContinuousClock.now
        try await AnalyticsBenchmark(services: services).seed(
            tenantId: tenant.id, calls: calls, from: now.addingTimeInterval(-365 * 86_400), to: now
        )
        let seeded = ContinuousClock.now - seedStart
        let export = TenantExport(database: services.database, tenantId: tenant.id, exportedAt: now)

        let baseline = Self.residentMB()
        let sink = CountingWriter()
        var writer: any ResponseBodyWriter = sink
        let jsonStart = ContinuousClock.now
        try await export.writeJSON(to: &writer)
        let json = ContinuousClock.now - jsonStart

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bookline-export-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let zipStart = ContinuousClock.now
        let archive = try await export.writeZip(in: folder)
        let zip = ContinuousClock.now - zipStart
        let zipBytes = (try FileManager.default.attributesOfItem(atPath: archive.path)[.size] as? Int) ?? 0
        let peak = max(sink.state.peakMB, Self.residentMB())
        return Result(calls: calls, seedSeconds: AnalyticsBenchmark.milliseconds(seeded) / 1000,
                      jsonSeconds: AnalyticsBenchmark.milliseconds(json) / 1000, jsonBytes: sink.state.bytes,
                      zipSeconds: AnalyticsBenchmark.milliseconds(zip) / 1000, zipBytes: zipBytes,
                      rssGrowthMB: max(0, peak - baseline))
    }

    /// VmRSS from /proc (Linux), in MB; 0 elsewhere.
    static func residentMB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes / 1024
    }
}

/// Discards what it is given, counting bytes and sampling resident memory as it goes.
private struct CountingWriter: ResponseBodyWriter {
    final class State: @unchecked Sendable {
        var bytes = 0
        var writes = 0
        var peakMB = 0.0
    }

    let state = State()

    mutating func write(_ buffer: ByteBuffer) async throws {
        state.bytes += buffer.readableBytes
        state.writes += 1
        if state.writes % 200 == 0 { state.peakMB = max(state.peakMB, ExportBenchmark.residentMB()) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
