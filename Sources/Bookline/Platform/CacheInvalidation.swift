import Foundation
import Logging
import SQLKit

/// A cached look-up that changed: API keys, tenants and users (each cached for 2 s) and
/// opt-outs (minutes). The instance that made the change forgets it at once; on PostgreSQL it
/// also NOTIFYs every other instance before answering, so a revoked key or a new opt-out is
/// honoured everywhere from the next request, not after the cache's lifetime.
public enum CacheInvalidation: Sendable, Equatable {
    case apiKey(id: String)
    case tenant(id: String)
    case user(id: String)
    /// A signed-in session that was revoked.
    case session(id: String)
    /// By the phone's keyed hash: a number never travels in a notification.
    case optOut(scope: String, phoneHash: String)

    static let channel = "bookline_cache"

    var payload: String {
        switch self {
        case .apiKey(let id): "key:\(id)"
        case .tenant(let id): "tenant:\(id)"
        case .user(let id): "user:\(id)"
        case .session(let id): "session:\(id)"
        case .optOut(let scope, let hash): "optout:\(scope):\(hash)"
        }
    }

    init?(payload: String) {
        let parts = payload.split(separator: ":", maxSplits: 2).map(String.init)
        switch (parts.first, parts.count) {
        case ("key", 2): self = .apiKey(id: parts[1])
        case ("tenant", 2): self = .tenant(id: parts[1])
        case ("user", 2): self = .user(id: parts[1])
        case ("session", 2): self = .session(id: parts[1])
        case ("optout", 3): self = .optOut(scope: parts[1], phoneHash: parts[2])
        default: return nil
        }
    }
}

extension Database {
    /// Tells the other instances to forget `target` (PostgreSQL; one instance on SQLite has
    /// nothing to tell). Failing to notify is logged, not thrown: the change itself is
    /// committed, and the other instances' caches still expire on their own.
    func broadcast(_ target: CacheInvalidation) async {
        guard engine == .postgres else { return }
        do {
            try await sql.raw("SELECT pg_notify(\(bind: CacheInvalidation.channel), \(bind: target.payload))").run()
        } catch {
            logger.warning("cache invalidation not broadcast", metadata: ["error": "\(TransientError.kind(of: error))"])
        }
    }
}

extension AppServices {
    /// Forgets what another instance changed (the listener calls this for each notification).
    func forget(_ target: CacheInvalidation) {
        switch target {
        case .apiKey(let id): apiKeys.forget(id: id)
        case .tenant(let id): tenants.forget(id)
        case .user(let id): users.forget(id)
        case .session(let id): sessions.forget(id)
        case .optOut(let scope, let hash): optOuts.forget(scope: scope, phoneHash: hash)
        }
    }

    /// Forgets every cached look-up (the listener reconnected and may have missed changes).
    func forgetAll() {
        apiKeys.forgetAll()
        tenants.forgetAll()
        users.forgetAll()
        sessions.forgetAll()
        optOuts.forgetAll()
    }
}
