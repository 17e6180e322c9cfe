import BooklineCore
import Foundation
import SQLKit

/// Opt-out rules: adding a number suppresses it at once (and marks the tenant's lead opted
/// out), withdrawing needs a reason, every change is audited, and look-ups are cached but
/// invalidated by every write in this process, so local correctness never waits for a TTL.
public struct OptOutService: Sendable {
    /// Reasons a client may give; `erased` is written only by erasure.
    public static let clientReasons = ["sms_stop", "request", "complaint", "do_not_call", "wrong_number", "other"]

    let database: Database
    let store = OptOutStore()
    let leads = LeadStore()
    let events: EventLog
    let audit: AuditLog
    let hasher: PhoneHasher
    /// (tenant id, phone hash) → opted out.
    private let cache: TTLCache<CacheKey, Bool>

    struct CacheKey: Hashable, Sendable {
        let tenantId: String
        let phoneHash: String
    }

    init(database: Database, audit: AuditLog, hasher: PhoneHasher, cacheSeconds: TimeInterval) {
        self.database = database
        self.events = EventLog(engine: database.engine)
        self.audit = audit
        self.hasher = hasher
        self.cache = TTLCache(ttl: cacheSeconds, capacity: 100_000)
    }

    /// Whether the tenant may not contact this number (its own list or the global one).
    public func isOptedOut(tenantId: String, phone e164: String, now: Date = Date()) async throws -> Bool {
        let key = CacheKey(tenantId: tenantId, phoneHash: try hasher.hash(e164))
        if let cached = cache.value(for: key, now: now) { return cached }
        let optedOut = !(try await store.activeHashes(tenantId: tenantId, among: [key.phoneHash], on: database.sql).isEmpty)
        cache.insert(optedOut, for: key, now: now)
        return optedOut
    }

    /// Active opt-outs among `phones` (E.164), checked in bulk inside an import's transaction.
    func optedOut(tenantId: String, among phones: [String], on db: any SQLDatabase) async throws -> Set<String> {
        let hashes = Dictionary(try phones.map { (try hasher.hash($0), $0) }, uniquingKeysWith: { first, _ in first })
        let active = try await store.activeHashes(tenantId: tenantId, among: Array(hashes.keys), on: db)
        return Set(active.compactMap { hashes[$0] })
    }

    public struct Change: Sendable {
        public let optOut: OptOut
        /// False when the number was already opted out (nothing changed).
        public let changed: Bool
    }

    /// Opts a number out for a tenant (or globally with `OptOutStore.global`).
    public func add(scope: String, phone: PhoneNumber, reason: String, source: String?, note: String?,
                    actor: AuditActor, now: Date) async throws -> Change {
        let change = try await database.transaction { db in
            try await add(scope: scope, phone: phone, reason: reason, source: source, note: note, actor: actor, now: now, on: db)
        }
        await invalidate(scope: scope, phone: phone.e164)
        return change
    }

    /// The same, inside the caller's transaction; the caller invalidates after commit.
    func add(scope: String, phone: PhoneNumber, reason: String, source: String?, note: String?,
             actor: AuditActor, now: Date, on db: any SQLDatabase) async throws -> Change {
        let hash = try hasher.hash(phone.e164)
        if let existing = try await store.find(scope: scope, phoneHash: hash, on: db), existing.isActive {
            return Change(optOut: existing, changed: false)
        }
        let optOut = try await store.upsert(scope: scope, phone: phone, hash: hash, reason: reason, source: source,
                                            note: note, actor: actor.id, now: now, on: db)
        let tenantId = scope == OptOutStore.global ? nil : scope
        if let tenantId, var lead = try await leads.find(tenantId: tenantId, phone: phone.e164, on: db), lead.status != .optedOut {
            let previous = lead.status
            lead.status = .optedOut
            lead.updatedAt = now
            try await leads.update(lead, on: db)
            try await events.append([.lead("lead_opted_out", lead.id, ["from": previous.rawValue, "to": "opted_out", "reason": reason])],
                                    tenantId: tenantId, on: db, now: now)
            try await FollowUps.stop(leadId: lead.id, reason: "lead opted out", engine: database.engine, now: now, on: db)
        }
        try await audit.append(AuditEntry(
            tenantId: tenantId, actor: actor, action: "opt_out.created", targetType: "opt_out", targetId: optOut.id,
            details: ["reason": reason, "scope": tenantId == nil ? "global" : "tenant"], personal: ["phone": phone.e164]
        ), on: db, now: now)
        return Change(optOut: optOut, changed: true)
    }

    public struct Withdrawal: Sendable {
        public let optOut: OptOut
        /// Still suppressed by the platform-wide list after the tenant's entry was withdrawn.
        public let stillGloballyOptedOut: Bool
    }

    /// Withdraws an active opt-out; nil when there is none. A tenant's opted-out lead returns to `new`.
    public func withdraw(scope: String, phone: PhoneNumber, reason: String, actor: AuditActor, now: Date) async throws -> Withdrawal? {
        let hash = try hasher.hash(phone.e164)
        let result: Withdrawal? = try await database.transaction { db in
            guard try await store.deactivate(scope: scope, hash: hash, reason: reason, actor: actor.id, now: now, on: db),
                  let optOut = try await store.find(scope: scope, phoneHash: hash, on: db)
            else { return nil }
            let tenantId = scope == OptOutStore.global ? nil : scope
            var globally = false
            if let tenantId {
                globally = !(try await store.activeHashes(tenantId: OptOutStore.global, among: [hash], on: db).isEmpty)
                if !globally, var lead = try await leads.find(tenantId: tenantId, phone: phone.e164, on: db), lead.status == .optedOut {
                    lead.status = .new
                    lead.updatedAt = now
                    try await leads.update(lead, on: db)
                    try await events.append([.lead("lead_status_changed", lead.id, ["from": "opted_out", "to": "new", "reason": "opt-out withdrawn"])],
                                            tenantId: tenantId, on: db, now: now)
                }
            }
            try await audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: "opt_out.withdrawn", targetType: "opt_out", targetId: optOut.id,
                details: ["reason": reason, "scope": tenantId == nil ? "global" : "tenant"]
            ), on: db, now: now)
            return Withdrawal(optOut: optOut, stillGloballyOptedOut: globally)
        }
        await invalidate(scope: scope, phone: phone.e164)
        return result
    }

    public func list(scope: String, active: Bool?, limit: Int, cursor: String?) async throws -> [OptOut] {
        try await store.list(scope: scope, active: active, limit: limit, cursor: cursor, on: database.sql)
    }

    public func find(scope: String, phone: PhoneNumber) async throws -> OptOut? {
        try await store.find(scope: scope, phoneHash: try hasher.hash(phone.e164), on: database.sql)
    }

    /// Forgets cached answers for the number here and on every other instance: one tenant's,
    /// or every tenant's after a global change.
    func invalidate(scope: String, phone e164: String) async {
        // Unavailable only when nothing could have been cached under it either.
        guard let hash = try? hasher.hash(e164) else { return }
        forget(scope: scope, phoneHash: hash)
        await database.broadcast(.optOut(scope: scope, phoneHash: hash))
    }

    func forgetAll() {
        cache.removeAll(whereKey: { _ in true })
    }

    /// Forgets cached answers for a number's hash on this instance only.
    func forget(scope: String, phoneHash hash: String) {
        if scope == OptOutStore.global {
            cache.removeAll(whereKey: { $0.phoneHash == hash })
        } else {
            cache.remove(CacheKey(tenantId: scope, phoneHash: hash))
        }
    }
}
