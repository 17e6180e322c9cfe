import BooklineCore
import Foundation

public enum JobStatus: String, Sendable, Codable, CaseIterable {
    case pending, running, done, failed, cancelled
}

/// One row of the job queue.
public struct Job: Sendable, Equatable {
    public let id: String
    public let tenantId: String?
    public let kind: String
    public var payload: [String: String]
    public var status: JobStatus
    public var runAt: Date
    public var attempts: Int
    public var maxAttempts: Int
    public var lastError: String?
    public var lockedBy: String?
    public var lockedUntil: Date?
    public let idempotencyKey: String?
    public let createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
}

/// A job to add to the queue.
public struct NewJob: Sendable, Equatable {
    public var kind: String
    public var tenantId: String?
    public var payload: [String: String]
    public var runAt: Date
    /// Unique for ever: enqueueing the same key again returns the existing job.
    public var idempotencyKey: String?

    public init(kind: String, tenantId: String? = nil, payload: [String: String] = [:], runAt: Date, idempotencyKey: String? = nil) {
        self.kind = kind
        self.tenantId = tenantId
        self.payload = payload
        self.runAt = runAt
        self.idempotencyKey = idempotencyKey
    }
}

/// How a kind of job is run and retried.
public struct JobPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    /// Delay before retry n (1-based); the last entry repeats.
    public var backoff: [TimeInterval]
    public var timeout: Duration

    public init(maxAttempts: Int = 4, backoff: [TimeInterval] = [3600, 7200, 14_400], timeout: Duration = .seconds(60)) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.timeout = timeout
    }

    /// 1 h, 2 h, 4 h: the default for anything that talks to a provider.
    public static let standard = JobPolicy()

    public func delay(afterAttempt attempt: Int) -> TimeInterval {
        guard !backoff.isEmpty else { return 60 }
        return backoff[min(max(attempt, 1), backoff.count) - 1]
    }
}

/// What a handler gets besides its job.
public struct JobContext: Sendable {
    public let services: AppServices
    public let workerId: String
}

/// A kind of job and the code that runs it.
public struct JobHandler: Sendable {
    public let kind: String
    public let policy: JobPolicy
    public let run: @Sendable (Job, JobContext) async throws -> Void

    public init(kind: String, policy: JobPolicy = .standard, run: @escaping @Sendable (Job, JobContext) async throws -> Void) {
        self.kind = kind
        self.policy = policy
        self.run = run
    }
}

/// Thrown by a handler for a failure no retry can fix: the job is parked as failed at once.
public struct PermanentJobFailure: Error, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}
