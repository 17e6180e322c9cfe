import BooklineCore
import Foundation
import SQLKit

/// Lead rules: one lead per phone per tenant, opted-out numbers are never added as
/// contactable, status moves only along allowed transitions, and every change writes its
/// domain event and audit entry in the same transaction.
public struct LeadService: Sendable {
    let database: Database
    let store = LeadStore()
    let optOuts: OptOutService
    let events: EventLog
    let audit: AuditLog

    init(database: Database, optOuts: OptOutService, audit: AuditLog) {
        self.database = database
        self.optOuts = optOuts
        self.events = EventLog(engine: database.engine)
        self.audit = audit
    }

    static func duplicate(_ existingId: String) -> Problem {
        Problem(status: .conflict, slug: "duplicate-lead", title: "Duplicate lead",
                detail: "A lead with this phone number already exists: \(existingId).")
    }

    static let optedOut = Problem(
        status: .conflict, slug: "opted-out", title: "Number opted out",
        detail: "This number is on the opt-out list, so it cannot be added as a contactable lead."
    )

    public func find(tenantId: String, id: String) async throws -> Lead? {
        try await store.find(tenantId: tenantId, id: id, on: database.sql)
    }

    public func list(tenantId: String, filter: LeadFilter, limit: Int, cursor: String?) async throws -> [Lead] {
        try await store.list(tenantId: tenantId, filter: filter, limit: limit, cursor: cursor, on: database.sql)
    }

    public func create(tenantId: String, draft: LeadDraft, actor: AuditActor, now: Date) async throws -> Lead {
        let lead = Lead(
            tenantId: tenantId, id: Identifier.make(now: now), name: draft.name, phone: draft.phone.e164,
            phoneType: draft.phone.kind.rawValue, email: draft.email, source: draft.source, status: .new, tags: draft.tags,
            notes: draft.notes, customFields: draft.customFields, lastContactedAt: nil, createdAt: now, updatedAt: now
        )
        do {
            return try await database.transaction { db in
                if try await !optOuts.optedOut(tenantId: tenantId, among: [lead.phone], on: db).isEmpty { throw Self.optedOut }
                if let existing = try await store.find(tenantId: tenantId, phone: lead.phone, on: db) {
                    throw Self.duplicate(existing.id)
                }
                try await store.insert([lead], on: db)
                try await events.append([.lead("lead_created", lead.id, ["status": "new", "source": lead.source ?? ""])],
                                        tenantId: tenantId, on: db, now: now)
                try await audit.append(AuditEntry(
                    tenantId: tenantId, actor: actor, action: "lead.created", targetType: "lead", targetId: lead.id,
                    details: ["source": lead.source ?? ""], personal: ["phone": lead.phone]
                ), on: db, now: now)
                return lead
            }
        } catch where ConstraintViolation.isUnique(error) {
            // Lost a race with a concurrent create of the same number.
            let winner = try await store.find(tenantId: tenantId, phone: lead.phone, on: database.sql)
            throw Self.duplicate(winner?.id ?? "unknown")
        }
    }

    /// Changes to apply; nil leaves a field alone, an empty string (or list) clears it.
    public struct Patch: Sendable {
        var name: String??
        var phone: PhoneNumber?
        var email: String??
        var source: String??
        var tags: [String]?
        var notes: String??
        var customFields: [String: JSONScalar]?
    }

    public func update(tenantId: String, id: String, patch: Patch, actor: AuditActor, now: Date) async throws -> Lead {
        do {
            return try await database.transaction { db in
                guard var lead = try await store.find(tenantId: tenantId, id: id, on: db) else { throw Problem.notFound("No lead with this id.") }
                var changed: [String] = []
                if let name = patch.name { lead.name = name; changed.append("name") }
                if let phone = patch.phone, phone.e164 != lead.phone {
                    if let other = try await store.find(tenantId: tenantId, phone: phone.e164, on: db) { throw Self.duplicate(other.id) }
                    if try await !optOuts.optedOut(tenantId: tenantId, among: [phone.e164], on: db).isEmpty { throw Self.optedOut }
                    lead.phone = phone.e164
                    lead.phoneType = phone.kind.rawValue
                    changed.append("phone")
                }
                if let email = patch.email { lead.email = email; changed.append("email") }
                if let source = patch.source { lead.source = source; changed.append("source") }
                if let tags = patch.tags { lead.tags = tags; changed.append("tags") }
                if let notes = patch.notes { lead.notes = notes; changed.append("notes") }
                if let custom = patch.customFields { lead.customFields = custom; changed.append("customFields") }
                guard !changed.isEmpty else { return lead }
                lead.updatedAt = now
                try await store.update(lead, on: db)
                try await audit.append(AuditEntry(
                    tenantId: tenantId, actor: actor, action: "lead.updated", targetType: "lead", targetId: id,
                    details: ["fields": changed.sorted().joined(separator: " ")]
                ), on: db, now: now)
                return lead
            }
        } catch where ConstraintViolation.isUnique(error) {
            throw Problem(status: .conflict, slug: "duplicate-lead", title: "Duplicate lead",
                          detail: "Another lead already has this phone number.")
        }
    }

    public func delete(tenantId: String, id: String, actor: AuditActor, now: Date) async throws {
        try await database.transaction { db in
            guard try await store.find(tenantId: tenantId, id: id, on: db) != nil else { throw Problem.notFound("No lead with this id.") }
            try await store.delete(tenantId: tenantId, id: id, on: db)
            try await events.append([.lead("lead_deleted", id)], tenantId: tenantId, on: db, now: now)
            try await audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: "lead.deleted", targetType: "lead", targetId: id
            ), on: db, now: now)
        }
    }

    /// Moves a lead along an allowed transition. Moving to `opted_out` also puts the number on
    /// the tenant's opt-out list, so it is never messaged again.
    public func changeStatus(tenantId: String, id: String, to next: LeadStatus, reason: String?, actor: AuditActor,
                             now: Date) async throws -> Lead {
        let (lead, optedOutPhone) = try await database.transaction { db -> (Lead, PhoneNumber?) in
            guard var lead = try await store.find(tenantId: tenantId, id: id, on: db) else { throw Problem.notFound("No lead with this id.") }
            let previous = lead.status
            guard previous.canMove(to: next) else { throw Self.invalidTransition(from: previous, to: next) }
            if next == .optedOut, let phone = try? PhoneNumber.parse(lead.phone).get() {
                _ = try await optOuts.add(scope: tenantId, phone: phone, reason: "request", source: "lead_status",
                                          note: reason, actor: actor, now: now, on: db)
                // Already on a list (so `add` changed nothing): the lead still follows.
                guard var updated = try await store.find(tenantId: tenantId, id: id, on: db) else { throw Problem.notFound() }
                try await FollowUps.stop(leadId: id, reason: "lead opted out", engine: database.engine, now: now, on: db)
                if updated.status != .optedOut {
                    updated.status = .optedOut
                    updated.updatedAt = now
                    try await store.update(updated, on: db)
                    try await events.append([.lead("lead_opted_out", id, ["from": previous.rawValue, "to": "opted_out", "reason": "request"])],
                                            tenantId: tenantId, on: db, now: now)
                }
                return (updated, phone)
            }
            lead.status = next
            lead.updatedAt = now
            if next.marksContact { lead.lastContactedAt = now }
            try await store.update(lead, on: db)
            if FollowUpPlan.stops(next) {
                try await FollowUps.stop(leadId: id, reason: "lead is \(next.rawValue)", engine: database.engine, now: now, on: db)
            }
            var payload = ["from": previous.rawValue, "to": next.rawValue]
            if let reason { payload["reason"] = reason }
            try await events.append([.lead("lead_status_changed", id, payload)], tenantId: tenantId, on: db, now: now)
            try await audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: "lead.status_changed", targetType: "lead", targetId: id,
                details: ["from": previous.rawValue, "to": next.rawValue]
            ), on: db, now: now)
            return (lead, nil)
        }
        if let optedOutPhone { await optOuts.invalidate(scope: tenantId, phone: optedOutPhone.e164) }
        return lead
    }

    static func invalidTransition(from: LeadStatus, to: LeadStatus) -> Problem {
        let allowed = from.allowedNext.map(\.rawValue).joined(separator: ", ")
        let hint = from == .optedOut
            ? "Withdraw the opt-out (DELETE /api/opt-outs/{phone}) to contact this lead again."
            : "From \(from.rawValue) a lead may move to: \(allowed)."
        return Problem(status: .conflict, slug: "invalid-transition", title: "Status change not allowed",
                       detail: "A lead cannot move from \(from.rawValue) to \(to.rawValue). \(hint)")
    }

    public func duplicatePolicy(tenantId: String) async throws -> DuplicatePolicy {
        try await store.duplicatePolicy(tenantId: tenantId, on: database.sql)
    }

    public func setDuplicatePolicy(_ policy: DuplicatePolicy, tenantId: String, actor: AuditActor, now: Date) async throws {
        try await database.transaction { db in
            try await store.setDuplicatePolicy(policy, tenantId: tenantId, now: now, on: db)
            try await audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: "lead_settings.updated", targetType: "tenant", targetId: tenantId,
                details: ["duplicateLookbackDays": String(policy.lookbackDays), "duplicateSkipDays": String(policy.skipDays)]
            ), on: db, now: now)
        }
    }
}
