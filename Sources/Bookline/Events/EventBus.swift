import Foundation
import Synchronization

/// Wakes a tenant's event streams when new events are committed. Each stream holds one
/// subscription; a wake says only "look again" (streams read the events table from their last
/// sequence), so a burst of commits costs one query, and a lost wake is caught up by the next.
public final class EventBus: Sendable {
    public enum Wake: Sendable { case events, heartbeat }

    private struct State {
        var subscribers: [String: [UUID: AsyncStream<Wake>.Continuation]] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    public struct Subscription: Sendable {
        public let id: UUID
        public let wakes: AsyncStream<Wake>
    }

    /// A subscription for `tenantId`, or nil when the tenant already has `limit` streams (or the
    /// bus is shutting down). Heartbeats arrive every `heartbeat`.
    public func subscribe(tenantId: String, limit: Int, heartbeat: Duration) -> Subscription? {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: Wake.self, bufferingPolicy: .bufferingNewest(2))
        let added = state.withLock { state -> Bool in
            guard !state.closed, (state.subscribers[tenantId]?.count ?? 0) < limit else { return false }
            state.subscribers[tenantId, default: [:]][id] = continuation
            return true
        }
        guard added else { return nil }
        let beat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                if Task.isCancelled { break }
                continuation.yield(.heartbeat)
            }
        }
        continuation.onTermination = { [weak self] _ in
            beat.cancel()
            self?.remove(tenantId: tenantId, id: id)
        }
        return Subscription(id: id, wakes: stream)
    }

    public func unsubscribe(tenantId: String, id: UUID) {
        let continuation = state.withLock { $0.subscribers[tenantId]?[id] }
        continuation?.finish()
        remove(tenantId: tenantId, id: id)
    }

    private func remove(tenantId: String, id: UUID) {
        state.withLock { state in
            state.subscribers[tenantId]?[id] = nil
            if state.subscribers[tenantId]?.isEmpty == true { state.subscribers[tenantId] = nil }
        }
    }

    public func publish(tenantId: String) {
        let targets = state.withLock { Array(($0.subscribers[tenantId] ?? [:]).values) }
        for continuation in targets { continuation.yield(.events) }
    }

    /// Makes every stream of the tenant write a heartbeat now. A stream whose client has gone
    /// fails that write and ends, freeing its place at once instead of at its next heartbeat.
    public func probe(tenantId: String) {
        let targets = state.withLock { Array(($0.subscribers[tenantId] ?? [:]).values) }
        for continuation in targets { continuation.yield(.heartbeat) }
    }

    public func streamCount(tenantId: String) -> Int { state.withLock { $0.subscribers[tenantId]?.count ?? 0 } }
    public var streamCount: Int { state.withLock { $0.subscribers.values.reduce(0) { $0 + $1.count } } }

    /// Ends every stream and refuses new ones: graceful shutdown.
    public func close() {
        let all = state.withLock { state -> [AsyncStream<Wake>.Continuation] in
            state.closed = true
            defer { state.subscribers = [:] }
            return state.subscribers.values.flatMap(\.values)
        }
        for continuation in all { continuation.finish() }
    }
}

/// Tenants whose events a transaction wrote, published once it commits (a stream woken before
/// the commit would find nothing yet). `Database.transaction` sets one per transaction.
final class CommittedEvents: Sendable {
    @TaskLocal static var current: CommittedEvents?
    private let tenants = Mutex(Set<String>())

    func record(_ tenantId: String) { tenants.withLock { _ = $0.insert(tenantId) } }
    var all: Set<String> { tenants.withLock { $0 } }
}
