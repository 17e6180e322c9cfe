import BooklineCore
import Foundation
import SQLKit

/// Follow-up sequences after a call: each step a job keyed by lead, call and step, so a
/// duplicate event schedules nothing twice. A newer call's outcome replaces the sequence; the
/// lead booking, opting out or becoming invalid stops it at once (and each step checks again
/// when it runs). SMS and email use the outcome's `follow_up_*` template; a `call` step records
/// a call task for the voice assistant.
enum FollowUps {
    static let kind = "followup.step"

    static func keyPrefix(_ leadId: String) -> String { "followup:\(leadId):" }

    static func schedule(call: Call, lead: Lead, plan: FollowUpPlan, zone: TimeZone, jobs: JobQueue, now: Date,
                         on db: any SQLDatabase) async throws {
        guard let outcome = call.outcome, !FollowUpPlan.stops(lead.status) else { return }
        let steps = plan.steps(for: outcome)
        guard !steps.isEmpty else { return }
        try await jobs.store.cancelPending(keyPrefix: keyPrefix(lead.id), reason: "replaced by a newer call's follow-up", now: now, on: db)
        let quiet = QuietHours()
        for (index, step) in steps.enumerated() {
            let runAt = quiet.nextAllowed(after: now.addingTimeInterval(step.after), in: zone)
            try await jobs.enqueue(NewJob(
                kind: kind, tenantId: call.tenantId,
                payload: ["lead_id": lead.id, "call_id": call.id, "outcome": outcome.rawValue, "step": String(index + 1),
                          "channel": step.channel.rawValue, "callback_time": callbackTime(call) ?? ""],
                runAt: runAt, idempotencyKey: "\(keyPrefix(lead.id))\(call.id):\(index + 1)"
            ), now: now, on: db)
        }
    }

    /// When the lead asked to be called back, if the assistant noted it.
    static func callbackTime(_ call: Call) -> String? {
        ["callbackTime", "callback_time"].lazy.compactMap { call.structuredData[$0]?.string }.first.map { String($0.prefix(60)) }
    }

    /// Drops the lead's follow-up steps that have not run.
    static func stop(leadId: String, reason: String, engine: Database.Engine, now: Date, on db: any SQLDatabase) async throws {
        try await JobStore(engine: engine).cancelPending(keyPrefix: keyPrefix(leadId), reason: reason, now: now, on: db)
    }

    static var handler: JobHandler {
        JobHandler(kind: kind) { job, context in try await run(job, context) }
    }

    static func run(_ job: Job, _ context: JobContext) async throws {
        let services = context.services
        let db = services.database.sql
        let now = services.now()
        guard let tenantId = job.tenantId, let leadId = job.payload["lead_id"], let outcome = job.payload["outcome"],
              let channel = job.payload["channel"].flatMap(FollowUpStep.Channel.init(rawValue:))
        else { throw PermanentJobFailure("malformed follow-up job") }
        let step = job.payload["step"] ?? "?"
        guard let tenant = try await services.tenants.find(id: tenantId), tenant.status == .active,
              let lead = try await LeadStore().find(tenantId: tenantId, id: leadId, on: db)
        else { return services.logger.info("[FOLLOW-UP] skipped: lead or tenant gone", metadata: ["job_id": "\(job.id)"]) }
        let upcoming = try await AppointmentStore().list(tenantId: tenantId, filter: .init(from: now, leadId: lead.id), limit: 5, on: db)
            .contains { $0.status.holdsSlot }
        // A platform-wide opt-out leaves the lead's status alone, so the list is asked too.
        let optedOut = try await services.optOuts.isOptedOut(tenantId: tenantId, phone: lead.phone, now: now)
        if FollowUpPlan.stops(lead.status) || upcoming || optedOut {
            let reason = upcoming ? "lead has an appointment" : optedOut ? "lead is opted out" : "lead is \(lead.status.rawValue)"
            _ = try await services.database.transaction { db in
                try await stop(leadId: lead.id, reason: reason, engine: services.database.engine, now: now, on: db)
            }
            return services.logger.info("[FOLLOW-UP] sequence stopped: \(reason)", metadata: ["lead_id": "\(lead.id)"])
        }
        switch channel {
        case .call:
            _ = try await services.database.transaction { db in
                try await EventLog(engine: services.database.engine).append([.lead("call_task_created", lead.id, [
                    "outcome": outcome, "step": step,
                ])], tenantId: tenantId, on: db, now: now)
            }
            services.logger.info("[FOLLOW-UP] call task for the assistant", metadata: ["lead_id": "\(lead.id)", "step": "\(step)"])
        case .sms, .email:
            if channel == .email, lead.email == nil {
                return services.logger.info("[FOLLOW-UP] email step skipped: no address", metadata: ["lead_id": "\(lead.id)"])
            }
            let template = "follow_up_\(outcome)"
            guard let definition = services.templates.definition(template) else { throw PermanentJobFailure("no template \(template)") }
            let phone = try await AppointmentMessages.businessPhone(tenantId: tenantId, services: services)
            let values = [
                "name": lead.name ?? "there", "business_phone": phone, "booking_link": "tel:\(phone.filter { $0 == "+" || $0.isNumber })",
                "callback_time": job.payload["callback_time"].flatMap { $0.isEmpty ? nil : $0 } ?? "soon",
            ].filter { definition.variables.contains($0.key) }
            _ = try await MessageService(services: services).enqueue(
                MessageRequest(channel: channel == .sms ? .sms : .email, leadId: lead.id, template: template, variables: values,
                               dedupeKey: job.idempotencyKey ?? job.id),
                tenant: tenant, actor: .system("follow-up"), now: now
            )
            services.logger.info("[FOLLOW-UP] \(channel.rawValue) queued", metadata: ["lead_id": "\(lead.id)", "step": "\(step)", "outcome": "\(outcome)"])
        }
    }
}
