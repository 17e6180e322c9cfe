import BooklineCore
import Foundation
import Synchronization

/// A job that recurs: every `every` seconds, aligned to the epoch plus `offset` (so daily at
/// 03:00 UTC is every 86400 with offset 10800).
public struct RecurringJob: Sendable, Equatable {
    public let name: String
    public let kind: String
    public let every: TimeInterval
    public let offset: TimeInterval

    /// The latest occurrence at or before `now`.
    public func occurrence(at now: Date) -> Date {
        let since = now.timeIntervalSince1970 - offset
        return Date(timeIntervalSince1970: (since / every).rounded(.down) * every + offset)
    }

    /// Each occurrence is one job for the whole platform: every instance enqueues it, the
    /// idempotency key lets one insert win, and one worker claims it.
    public func key(for occurrence: Date) -> String {
        "recurring:\(name):\(Int(occurrence.timeIntervalSince1970))"
    }
}

/// Enqueues the current occurrence of each recurring job, at most every `tickInterval`.
public final class RecurringScheduler: Sendable {
    let services: AppServices
    let jobs: [RecurringJob]
    let tickInterval: TimeInterval
    private let lastTick = Mutex<Date?>(nil)

    init(services: AppServices, jobs: [RecurringJob], tickInterval: TimeInterval = 10) {
        self.services = services
        self.jobs = jobs
        self.tickInterval = tickInterval
    }

    func tickIfDue() async {
        let now = services.now()
        let due = lastTick.withLock { last in
            guard last.map({ now.timeIntervalSince($0) >= tickInterval || now < $0 }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        do {
            try await tick(now: now)
        } catch {
            services.logger.warning("[JOBS] recurring schedule not written", metadata: ["error": "\(TransientError.kind(of: error))"])
        }
    }

    /// Enqueues each job's current occurrence (a no-op when it already exists).
    public func tick(now: Date) async throws {
        let queue = services.jobs
        try await services.database.transaction { [jobs] db in
            for job in jobs {
                let occurrence = job.occurrence(at: now)
                try await queue.enqueue(NewJob(kind: job.kind, runAt: occurrence, idempotencyKey: job.key(for: occurrence)), now: now, on: db)
            }
        }
    }
}
