import BooklineCore
import Foundation
import Hummingbird
import HTTPTypes
import Metrics
import SQLKit
import Synchronization

public struct RateLimitPolicy: Sendable, Equatable {
    /// Shown in the `RateLimit-Policy` header: the tier name, or e.g. `login` for per-IP budgets.
    public let name: String
    public let limit: Int
    public let window: Double

    public init(name: String, limit: Int, window: Double) {
        self.name = name
        self.limit = limit
        self.window = window
    }
}

/// Where recent requests are counted: in memory (one instance) or in PostgreSQL (several
/// instances share one budget).
public protocol RateLimitStore: Sendable {
    func hit(bucket: String, policy: RateLimitPolicy, now: Date) async throws -> SlidingWindow.Decision
}

public final class MemoryRateLimitStore: RateLimitStore {
    private let buckets = Mutex<[String: SlidingWindowLog]>([:])
    private let maxBuckets = 100_000

    public init() {}

    public func hit(bucket: String, policy: RateLimitPolicy, now: Date) async throws -> SlidingWindow.Decision {
        let moment = now.timeIntervalSince1970
        return buckets.withLock { table in
            if table.count >= maxBuckets {
                // Forget buckets with nothing recent rather than grow without bound.
                table = table.filter { ($0.value.newest ?? 0) > moment - policy.window }
            }
            return table[bucket, default: SlidingWindowLog()].hit(now: moment, limit: policy.limit, window: policy.window)
        }
    }
}

/// Shared budgets in PostgreSQL: one row per counted request, the bucket locked per decision.
public struct PostgresRateLimitStore: RateLimitStore {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func hit(bucket: String, policy: RateLimitPolicy, now: Date) async throws -> SlidingWindow.Decision {
        let moment = now.timeIntervalSince1970
        let window = SlidingWindow(limit: policy.limit, window: policy.window)
        return try await database.transaction { db in
            try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "ratelimit:" + bucket)))").run()
            try await db.raw("DELETE FROM rate_limit_hits WHERE bucket = \(bind: bucket) AND at <= \(bind: moment - policy.window)").run()
            let hits = try await db.raw("SELECT at FROM rate_limit_hits WHERE bucket = \(bind: bucket) ORDER BY at")
                .all().map { try $0.decode(column: "at", as: Double.self) }
            let (decision, _) = window.decide(hits: hits, now: moment)
            if decision.allowed {
                try await db.raw("INSERT INTO rate_limit_hits (bucket, at) VALUES (\(bind: bucket), \(bind: moment))").run()
            }
            return decision
        }
    }
}

/// Applies a policy to a bucket, records metrics, and writes the IETF draft's `RateLimit` /
/// `RateLimit-Policy` fields plus the common `X-RateLimit-*` trio.
public struct RateLimiter: Sendable {
    let store: any RateLimitStore
    let now: @Sendable () -> Date
    private let counters = DecisionCounters()

    public init(store: any RateLimitStore, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.now = now
    }

    public struct Outcome: Sendable {
        public let policy: RateLimitPolicy
        public let decision: SlidingWindow.Decision

        static let policyField = HTTPField.Name("RateLimit-Policy")!
        static let limitField = HTTPField.Name("RateLimit")!
        static let legacyLimit = HTTPField.Name("X-RateLimit-Limit")!
        static let legacyRemaining = HTTPField.Name("X-RateLimit-Remaining")!
        static let legacyReset = HTTPField.Name("X-RateLimit-Reset")!

        /// The fields, in a fixed order.
        public var fields: [(HTTPField.Name, String)] {
            [
                (Self.policyField, "\"\(policy.name)\";q=\(policy.limit);w=\(Int(policy.window))"),
                (Self.limitField, "\"\(policy.name)\";r=\(decision.remaining);t=\(decision.resetSeconds)"),
                (Self.legacyLimit, String(policy.limit)),
                (Self.legacyRemaining, String(decision.remaining)),
                (Self.legacyReset, String(decision.resetSeconds)),
            ]
        }

        public var headers: [String: String] {
            Dictionary(uniqueKeysWithValues: fields.map { ($0.0.rawName, $0.1) })
        }

        public func apply(to response: inout Response) {
            for (name, value) in fields { response.headers[name] = value }
        }
    }

    /// Counts a request; throws 429 (with Retry-After and the rate-limit fields) when over budget.
    public func check(bucket: String, policy: RateLimitPolicy) async throws -> Outcome {
        let decision = try await store.hit(bucket: bucket, policy: policy, now: now())
        let outcome = Outcome(policy: policy, decision: decision)
        counters.counter(policy: policy.name, allowed: decision.allowed).increment()
        guard decision.allowed else {
            var problem = Problem(
                status: .tooManyRequests, slug: "rate-limited", title: "Too many requests",
                detail: "The \(policy.name) limit of \(policy.limit) requests per \(Int(policy.window)) seconds is used up; retry in \(decision.resetSeconds) seconds."
            )
            problem.headers = outcome.headers
            problem.headers["Retry-After"] = String(decision.resetSeconds)
            throw problem
        }
        return outcome
    }

    /// Runs `next` under the budget and puts the rate-limit fields on its answer, error or not.
    public func limited(bucket: String, policy: RateLimitPolicy, _ next: () async throws -> Response) async throws -> Response {
        let outcome = try await check(bucket: bucket, policy: policy)
        do {
            var response = try await next()
            outcome.apply(to: &response)
            return response
        } catch var problem as Problem {
            for (name, value) in outcome.headers where problem.headers[name] == nil { problem.headers[name] = value }
            throw problem
        }
    }
}

/// Allowed/refused counters by policy, made once each: building a metric looks it up in the
/// factory, which is too slow to do on every request.
final class DecisionCounters: Sendable {
    private struct Key: Hashable {
        let policy: String
        let allowed: Bool
    }

    private let counters = Mutex<[Key: Counter]>([:])

    func counter(policy: String, allowed: Bool) -> Counter {
        let key = Key(policy: policy, allowed: allowed)
        return counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "bookline_rate_limit_decisions_total",
                                  dimensions: [("policy", policy), ("decision", allowed ? "allowed" : "refused")])
            counters[key] = counter
            return counter
        }
    }
}
