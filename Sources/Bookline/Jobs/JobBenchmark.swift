import BooklineCore
import Foundation
import SQLKit

/// `bookline bench jobs`: drains N due no-op jobs with W workers (throughput), then feeds N
/// jobs falling due at a steady rate to the real worker loop (scheduling latency, due → started).
public struct JobBenchmark: Sendable {
    public struct Result: Sendable {
        public let jobs: Int
        public let workers: Int
        public let concurrency: Int
        public let drainSeconds: Double
        public let rate: Double
        public let latencies: [Double]

        public var summary: String {
            let sorted = latencies.sorted()
            func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            return String(format: "%d jobs, %d worker(s) x %d: drained in %.2f s = %.0f jobs/s; at %.0f jobs/s due, due -> started p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                          jobs, workers, concurrency, drainSeconds, Double(jobs) / drainSeconds, rate,
                          percentile(0.5) * 1000, percentile(0.99) * 1000, (sorted.last ?? 0) * 1000)
        }
    }

    let services: AppServices

    public init(services: AppServices) {
        self.services = services
    }

    public func run(jobs: Int, workers: Int, concurrency: Int) async throws -> Result {
        let enqueueStarted = ContinuousClock.now
        try await enqueue(jobs, tag: "drain", firstDue: services.now(), spacing: 0)
        let enqueueSeconds = Self.seconds(ContinuousClock.now - enqueueStarted)
        let drainSeconds = try await drain(workers: workers, concurrency: concurrency)
        // Latency: the same number of jobs falling due at half the measured throughput, the
        // first one after they have all been written.
        let rate = Double(jobs) / drainSeconds / 2
        let latencies = try await steady(jobs: jobs, rate: rate, startIn: enqueueSeconds * 1.5 + 1, workers: workers,
                                         concurrency: concurrency)
        return Result(jobs: jobs, workers: workers, concurrency: concurrency, drainSeconds: drainSeconds, rate: rate, latencies: latencies)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Seconds W workers take to run every due job.
    func drain(workers: Int, concurrency: Int) async throws -> Double {
        let started = ContinuousClock.now
        let pool = (0..<workers).map { JobWorker(services: services, concurrency: concurrency, id: "bench-\($0)") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in pool { group.addTask { while try await worker.runOnce() > 0 {} } }
            try await group.waitForAll()
        }
        return Self.seconds(ContinuousClock.now - started)
    }

    /// Due → started delays of N jobs falling due `rate` a second, run by the real worker loop.
    func steady(jobs: Int, rate: Double, startIn: TimeInterval, workers: Int, concurrency: Int) async throws -> [Double] {
        let firstDue = services.now().addingTimeInterval(startIn)
        try await enqueue(jobs, tag: "steady", firstDue: firstDue, spacing: 1 / rate)
        let loops = (0..<workers).map { index in
            JobWorkerService(worker: JobWorker(services: services, concurrency: concurrency, id: "steady-\(index)"),
                             scheduler: RecurringScheduler(services: services, jobs: []), interval: .milliseconds(50))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for loop in loops { group.addTask { try await loop.run() } }
            let deadline = firstDue.addingTimeInterval(Double(jobs) / rate + 30)
            while services.now() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                if try await remaining(tag: "steady") == 0 { break }
            }
            group.cancelAll()
        }
        return try await services.database.sql.raw("""
            SELECT run_at, started_at FROM jobs WHERE idempotency_key LIKE 'bench-steady-%' AND started_at IS NOT NULL
            """).all().map { row in
            try row.decode(column: "started_at", as: Date.self).timeIntervalSince(try row.decode(column: "run_at", as: Date.self))
        }
    }

    func enqueue(_ count: Int, tag: String, firstDue: Date, spacing: TimeInterval) async throws {
        let run = Identifier.make(now: firstDue).suffix(8)
        for chunk in stride(from: 0, to: count, by: 1000) {
            try await services.database.transaction { [services] db in
                for index in chunk..<min(chunk + 1000, count) {
                    let due = firstDue.addingTimeInterval(Double(index) * spacing)
                    try await services.jobs.enqueue(NewJob(kind: "platform.noop", runAt: due, idempotencyKey: "bench-\(tag)-\(run)-\(index)"),
                                                    now: services.now(), on: db)
                }
            }
        }
    }

    func remaining(tag: String) async throws -> Int {
        try await services.database.sql.raw("""
            SELECT COUNT(*) AS n FROM jobs WHERE idempotency_key LIKE \(bind: "bench-\(tag)-%") AND status <> 'done'
            """).first()?.decode(column: "n", as: Int.self) ?? 0
    }
}
