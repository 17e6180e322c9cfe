import BooklineCore
import Foundation
import Hummingbird
import SQLKit

/// A tenant's follow-up sequences: the platform's `tenants/followups.yaml`, with the tenant's
/// own sequence wherever it set one.
struct FollowUpOverrideStore: Sendable {
    struct Step: Codable, Equatable {
        let channel: String
        let after: String
    }

    func overrides(tenantId: String, on db: any SQLDatabase) async throws -> [CallOutcome: [Step]] {
        try await db.raw("SELECT outcome, steps FROM followup_overrides WHERE tenant_id = \(bind: tenantId)").all()
            .reduce(into: [:]) { result, row in
                guard let outcome = CallOutcome(rawValue: try row.decode(column: "outcome", as: String.self)) else { return }
                result[outcome] = try JSONDecoder().decode([Step].self, from: Data(try row.decode(column: "steps", as: String.self).utf8))
            }
    }

    /// The plan for this tenant: its overrides over the platform's.
    func plan(tenantId: String, base: FollowUpPlan, on db: any SQLDatabase) async throws -> FollowUpPlan {
        var sequences = base.sequences
        for (outcome, steps) in try await overrides(tenantId: tenantId, on: db) {
            sequences[outcome] = steps.compactMap { step in
                guard let channel = FollowUpStep.Channel(rawValue: step.channel), let after = FollowUpStep.duration(step.after) else { return nil }
                return FollowUpStep(channel: channel, after: after)
            }
        }
        return FollowUpPlan(sequences: sequences)
    }

    func save(_ steps: [Step]?, outcome: CallOutcome, tenantId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM followup_overrides WHERE tenant_id = \(bind: tenantId) AND outcome = \(bind: outcome.rawValue)").run()
        guard let steps else { return }
        try await db.raw("""
            INSERT INTO followup_overrides (tenant_id, outcome, steps, updated_at)
            VALUES (\(bind: tenantId), \(bind: outcome.rawValue), \(bind: String(decoding: try JSONEncoder().encode(steps), as: UTF8.self)), \(bind: now))
            """).run()
    }
}

/// `GET/PUT /api/settings/followups` (settings:write): see the sequences in force, replace one
/// outcome's with the tenant's own (`[]` for none), or go back to the platform's with `null`.
struct FollowUpSettingsRoutes {
    static let maxSteps = 10
    static let maxAfter: TimeInterval = 90 * 86_400
    let services: AppServices

    struct View: ResponseEncodable {
        let sequences: [String: [FollowUpOverrideStore.Step]]
        /// Outcomes whose sequence is the tenant's own.
        let overridden: [String]
    }

    struct Body: Decodable {
        /// Outcome → steps; an explicit null resets that outcome to the platform's sequence.
        var sequences: [String: [FollowUpOverrideStore.Step]?]
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("settings/followups", use: show)
        group.put("settings/followups", use: update)
    }

    func view(tenantId: String) async throws -> View {
        let db = services.database.sql
        let overrides = try await FollowUpOverrideStore().overrides(tenantId: tenantId, on: db)
        let plan = try await FollowUpOverrideStore().plan(tenantId: tenantId, base: services.followUps, on: db)
        return View(
            sequences: Dictionary(uniqueKeysWithValues: plan.sequences.map { outcome, steps in
                (outcome.rawValue, steps.map { FollowUpOverrideStore.Step(channel: $0.channel.rawValue, after: Self.text($0.after)) })
            }),
            overridden: overrides.keys.map(\.rawValue).sorted()
        )
    }

    static func text(_ seconds: TimeInterval) -> String {
        let value = Int(seconds)
        return value % 86_400 == 0 && value > 0 ? "\(value / 86_400)d" : value % 3600 == 0 && value > 0 ? "\(value / 3600)h" : "\(value / 60)m"
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> View {
        try context.tenant.require(.settingsWrite)
        return try await view(tenantId: context.tenant.tenantId)
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> View {
        if context.tenant.principal.kind == .user { try context.tenant.requireSettingsManager() }
        try context.tenant.require(.settingsWrite)
        let body = try await request.decodeJSON(as: Body.self, context: context)
        var errors: [Problem.FieldError] = []
        var changes: [(CallOutcome, [FollowUpOverrideStore.Step]?)] = []
        for (name, steps) in body.sequences.sorted(by: { $0.key < $1.key }) {
            guard let outcome = CallOutcome(rawValue: name) else {
                errors.append(.init(field: "sequences.\(name)", message: "must be a call outcome: \(CallOutcome.allCases.map(\.rawValue).joined(separator: ", "))"))
                continue
            }
            if let steps {
                if steps.count > Self.maxSteps { errors.append(.init(field: "sequences.\(name)", message: "at most \(Self.maxSteps) steps")) }
                for (index, step) in steps.enumerated() {
                    if FollowUpStep.Channel(rawValue: step.channel) == nil {
                        errors.append(.init(field: "sequences.\(name)[\(index)].channel", message: "must be sms, email or call"))
                    }
                    if FollowUpStep.duration(step.after).map({ $0 <= Self.maxAfter }) != true {
                        errors.append(.init(field: "sequences.\(name)[\(index)].after", message: "must look like 30m, 6h or 7d, at most 90d"))
                    }
                }
            }
            changes.append((outcome, steps))
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let tenantId = context.tenant.tenantId
        let now = services.now()
        try await services.database.transaction { [changes] db in
            for (outcome, steps) in changes {
                try await FollowUpOverrideStore().save(steps, outcome: outcome, tenantId: tenantId, now: now, on: db)
            }
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: context.auditActor(request), action: "followups.updated", targetType: "tenant",
                targetId: tenantId, details: ["outcomes": changes.map(\.0.rawValue).joined(separator: " ")]
            ), on: db, now: now)
        }
        return try await view(tenantId: tenantId)
    }
}
