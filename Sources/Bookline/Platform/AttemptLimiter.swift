import Foundation
import Synchronization

/// Counts attempts per key (an IP address) in a sliding window, in memory. Guards the
/// unauthenticated endpoints (sign-up, login, token) until the tier limiter takes over.
public final class AttemptLimiter: Sendable {
    let limit: Int
    let window: TimeInterval
    private let attempts = Mutex<[String: [Date]]>([:])

    public init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// Records an attempt; returns the seconds to wait when the key is over its limit.
    public func attempt(_ key: String, now: Date) -> Int? {
        attempts.withLock { table in
            var recent = (table[key] ?? []).filter { now.timeIntervalSince($0) < window }
            if table.count > 10_000 { table = table.filter { !$0.value.isEmpty && now.timeIntervalSince($0.value.last!) < window } }
            guard recent.count < limit else {
                table[key] = recent
                return max(1, Int((window - now.timeIntervalSince(recent[0])).rounded(.up)))
            }
            recent.append(now)
            table[key] = recent
            return nil
        }
    }

    /// Throws 429 with Retry-After when `key` is over its limit.
    public func check(_ key: String, now: Date) throws {
        if let wait = attempt(key, now: now) {
            var problem = Problem(
                status: .tooManyRequests, slug: "rate-limited", title: "Too many requests",
                detail: "Too many attempts from this address; try again in \(wait) seconds."
            )
            problem.headers["Retry-After"] = String(wait)
            throw problem
        }
    }
}
