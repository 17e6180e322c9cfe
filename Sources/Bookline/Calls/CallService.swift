import BooklineCore
import Foundation
import Metrics
import SQLKit

/// Merges call reports into `calls`: one row per provider call, created by whichever event
/// arrives first. The end of a call classifies its outcome, moves the lead along and writes
/// `call_ended`, all in one transaction with the webhook receipt, so a replayed or concurrent
/// event can never count a call twice.
struct CallService: Sendable {
    let services: AppServices
    var store: CallStore { CallStore() }

    struct Recorded: Sendable {
        let call: Call
        /// The event (or external id) was seen before; nothing changed.
        let duplicate: Bool
    }

    func record(_ report: CallReport, tenantId: String, actor: AuditActor, now: Date) async throws -> Recorded {
        do {
            return try await services.database.transaction { db in try await apply(report, tenantId: tenantId, actor: actor, now: now, on: db) }
        } catch where ConstraintViolation.isUnique(error) {
            // Two events of one call raced to create its row: the loser merges into the winner's.
            return try await services.database.transaction { db in try await apply(report, tenantId: tenantId, actor: actor, now: now, on: db) }
        }
    }

    func apply(_ report: CallReport, tenantId: String, actor: AuditActor, now: Date, on db: any SQLDatabase) async throws -> Recorded {
        let existing = try await store.find(tenantId: tenantId, provider: report.provider, providerCallId: report.providerCallId, on: db)
        if let eventType = report.eventType {
            guard try await store.claimReceipt(tenantId: tenantId, providerCallId: report.providerCallId, eventType: eventType,
                                               now: now, on: db)
            else {
                // A concurrent delivery may have claimed it after our read: the claim waited for
                // that transaction's commit, so a fresh read now sees its row.
                if let existing { return Recorded(call: existing, duplicate: true) }
                if let winner = try await store.find(tenantId: tenantId, provider: report.provider,
                                                     providerCallId: report.providerCallId, on: db) {
                    return Recorded(call: winner, duplicate: true)
                }
                throw Problem.notFound("This event was already handled.")
            }
        } else if let existing {
            return Recorded(call: existing, duplicate: true)
        }
        let leads = LeadStore()
        var lead = try await matchLead(report, existing: existing, tenantId: tenantId, on: db)
        let settings = try await CallSettingsStore().find(tenantId: tenantId, on: db)
        var call = existing ?? Call(
            tenantId: tenantId, id: Identifier.make(now: now), provider: report.provider, providerCallId: report.providerCallId,
            leadId: nil, phone: nil, direction: "outbound", state: .inProgress, startedAt: report.startedAt ?? now,
            endedAt: nil, durationSeconds: nil, costMinor: nil, currency: nil, endedReason: nil, endedReasonKnown: true,
            outcome: nil, summary: nil, recordingURL: nil, structuredData: [:], createdAt: now, updatedAt: now
        )
        let wasEnded = call.state == .ended
        merge(report, into: &call, lead: lead, currency: settings.currency)
        call.updatedAt = now
        var events: [NewEvent] = []
        let payload = ["call_id": call.id, "lead_id": call.leadId ?? "", "direction": call.direction]
        if existing == nil {
            events.append(NewEvent(type: "call_started", subjectType: "call", subjectId: call.id, payload: payload))
        }
        if report.ended, !wasEnded {
            call.state = .ended
            let classified = CallOutcome.classify(endedReason: call.endedReason, structuredOutcome: report.structuredOutcome)
            call.outcome = report.outcome ?? classified.outcome
            call.endedReasonKnown = call.endedReason == nil ? report.outcome != nil : classified.knownReason
            if call.endedAt == nil { call.endedAt = call.durationSeconds.map { call.startedAt.addingTimeInterval(Double($0)) } ?? now }
            if call.durationSeconds == nil, let end = call.endedAt { call.durationSeconds = max(0, Int(end.timeIntervalSince(call.startedAt).rounded())) }
            var ended = payload
            ended["outcome"] = call.outcome?.rawValue ?? ""
            ended["duration_seconds"] = call.durationSeconds.map(String.init) ?? ""
            events.append(NewEvent(type: "call_ended", subjectType: "call", subjectId: call.id, payload: ended))
            if var current = lead, let outcome = call.outcome {
                let previous = current.status
                current.lastContactedAt = max(current.lastContactedAt ?? .distantPast, call.endedAt ?? now)
                current.updatedAt = now
                if let next = outcome.leadStatus(from: previous) {
                    current.status = next
                    events.append(.lead("lead_status_changed", current.id, ["from": previous.rawValue, "to": next.rawValue, "reason": "call"]))
                }
                try await leads.update(current, on: db)
                lead = current
                if let tenant = try await services.tenants.find(id: tenantId) {
                    let plan = try await FollowUpOverrideStore().plan(tenantId: tenantId, base: services.followUps, on: db)
                    try await FollowUps.schedule(call: call, lead: current, plan: plan,
                                                 zone: TimeZone(identifier: tenant.timezone) ?? TimeZone(identifier: "UTC")!,
                                                 jobs: services.jobs, now: now, on: db)
                }
            }
        }
        if existing == nil { try await store.insert([call], on: db) } else { try await store.update(call, on: db) }
        try await EventLog(engine: services.database.engine).append(events, tenantId: tenantId, on: db, now: now)
        if report.ended, !wasEnded {
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: "call.recorded", targetType: "call", targetId: call.id,
                details: ["outcome": call.outcome?.rawValue ?? "", "provider": call.provider, "lead_id": call.leadId ?? ""]
            ), on: db, now: now)
            Counter(label: "bookline_calls_total", dimensions: [("outcome", call.outcome?.rawValue ?? "unknown")]).increment()
            if !call.endedReasonKnown {
                Counter(label: "bookline_calls_unknown_ended_reason_total", dimensions: [("provider", call.provider)]).increment()
            }
        }
        return Recorded(call: call, duplicate: false)
    }

    /// The lead a call is about: the row's own, the id the call's metadata names (if it is
    /// this tenant's), else the tenant's lead with the customer's number.
    func matchLead(_ report: CallReport, existing: Call?, tenantId: String, on db: any SQLDatabase) async throws -> Lead? {
        let leads = LeadStore()
        if let id = existing?.leadId, let lead = try await leads.find(tenantId: tenantId, id: id, on: db) { return lead }
        if let id = report.leadId, Identifier.isValid(id), let lead = try await leads.find(tenantId: tenantId, id: id, on: db) {
            return lead
        }
        guard let phone = report.phone ?? existing?.phone.flatMap({ try? PhoneNumber.parse($0).get() }) else { return nil }
        return try await leads.find(tenantId: tenantId, phone: phone.e164, on: db)
    }

    /// Fills the row from the report; a later event never blanks what an earlier one said.
    func merge(_ report: CallReport, into call: inout Call, lead: Lead?, currency: String) {
        if let lead { call.leadId = lead.id }
        if let phone = report.phone?.e164 ?? lead?.phone { call.phone = call.phone ?? phone }
        if let direction = report.direction { call.direction = direction }
        if let started = report.startedAt { call.startedAt = started }
        if let ended = report.endedAt { call.endedAt = ended }
        if let duration = report.durationSeconds { call.durationSeconds = duration }
        if let cost = report.costMinor {
            call.costMinor = cost
            call.currency = report.currency ?? currency
        }
        if let reason = report.endedReason { call.endedReason = reason }
        if let summary = report.summary { call.summary = summary }
        if let url = report.recordingURL { call.recordingURL = url }
        if let data = report.structuredData { call.structuredData = data }
    }
}
