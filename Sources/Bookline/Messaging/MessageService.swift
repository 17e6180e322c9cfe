import BooklineCore
import Foundation
import Logging
import SQLKit

/// A client's request to send: to a lead or an address, from a template or a raw body.
public struct MessageRequest: Sendable {
    public var channel: MessageChannel
    public var leadId: String?
    public var to: String?
    public var template: String?
    public var variables: [String: String] = [:]
    public var body: String?
    public var subject: String?
    public var sendAt: Date?
    /// Queues at most one message per key (scheduled messages use their job's key).
    public var dedupeKey: String?
}

/// Composes and queues messages. Every message is a row before anything is sent: checks that
/// can refuse it (opt-outs) leave a `blocked` row with the reason, the daily SMS quota
/// refuses with 429, and quiet hours move `send_at` to the morning in the tenant's zone.
public struct MessageService: Sendable {
    let services: AppServices
    var store: MessageStore { MessageStore(engine: services.database.engine) }

    static let heldForVerification = "held until an owner of the account verifies their email address (see the link Bookline emailed at sign-up)"

    public func enqueue(_ request: MessageRequest, tenant: Tenant, actor: AuditActor, now: Date) async throws -> Message {
        let db = services.database.sql
        if let key = request.dedupeKey, let existing = try await store.find(tenantId: tenant.id, dedupeKey: key, on: db) {
            return existing
        }
        var lead: Lead?
        if let leadId = request.leadId {
            guard Identifier.isValid(leadId), let found = try await services.leads.find(tenantId: tenant.id, id: leadId) else {
                throw Problem.notFound("No lead with this id.")
            }
            lead = found
        }
        let to = try recipient(request, lead: lead)
        var content = try await compose(request, tenant: tenant, lead: lead)
        if request.channel == .sms {
            let count = SMSSegments.count(content.text)
            guard count.segments <= SMSSegments.maxSegments else {
                throw Problem.validation(field: "body", "is \(count.segments) SMS segments (\(count.encoding.rawValue)); at most \(SMSSegments.maxSegments) are allowed")
            }
            content.segments = count.segments
            content.encoding = count.encoding.rawValue
        }
        var message = Message(
            tenantId: tenant.id, id: Identifier.make(now: now), leadId: lead?.id, channel: request.channel, direction: "outbound",
            to: to, from: nil, template: request.template, subject: content.subject, body: content.text,
            bodyHtml: content.html, status: .queued, reason: nil, segments: content.segments, encoding: content.encoding,
            provider: nil, providerId: nil, errorCode: nil, attempts: 0, sendAt: max(request.sendAt ?? now, now), sentAt: nil,
            deliveredAt: nil, createdAt: now, updatedAt: now
        )
        if let reason = try await blockReason(channel: request.channel, to: to, lead: lead, tenantId: tenant.id) {
            message.status = .blocked
            message.reason = reason
        } else if request.channel == .sms {
            try await checkQuota(tenant: tenant, now: now, on: db)
            let zone = TimeZone(identifier: tenant.timezone) ?? TimeZone(identifier: "Europe/London")!
            message.sendAt = QuietHours().nextAllowed(after: message.sendAt, in: zone)
        } else if request.channel == .email, try await !services.users.tenantHasVerifiedOwner(tenant.id, on: db) {
            // The sender skips it until then (MessageStore.claim); the reason says why it waits.
            message.reason = Self.heldForVerification
        }
        do {
            try await insert(message, dedupeKey: request.dedupeKey, tenant: tenant, actor: actor, now: now)
        } catch where ConstraintViolation.isUnique(error) && request.dedupeKey != nil {
            // The same scheduled message raced in twice: the first one stands.
            if let key = request.dedupeKey, let existing = try await store.find(tenantId: tenant.id, dedupeKey: key, on: db) { return existing }
            throw error
        }
        services.logger.info("\(message.channel == .sms ? "[SMS]" : "[EMAIL]") \(message.status.rawValue)", metadata: [
            "message_id": "\(message.id)", "tenant_id": "\(tenant.id)", "to": "\(MessageLog.mask(to))",
        ])
        return message
    }

    func insert(_ message: Message, dedupeKey: String?, tenant: Tenant, actor: AuditActor, now: Date) async throws {
        try await services.database.transaction { [message] db in
            try await store.insert(message, dedupeKey: dedupeKey, on: db)
            if let leadId = message.leadId, message.status != .blocked, message.direction == "outbound" {
                // Reaching out by message counts as contact (retention keeps contacted leads).
                try await db.raw("""
                    UPDATE leads SET last_contacted_at = \(bind: message.sendAt)
                    WHERE tenant_id = \(bind: tenant.id) AND id = \(bind: leadId)
                      AND (last_contacted_at IS NULL OR last_contacted_at < \(bind: message.sendAt))
                    """).run()
            }
            try await services.audit.append(AuditEntry(
                tenantId: tenant.id, actor: actor, action: message.status == .blocked ? "message.blocked" : "message.queued",
                targetType: "message", targetId: message.id,
                details: ["channel": message.channel.rawValue, "template": message.template ?? "", "reason": message.reason ?? ""]
            ), on: db, now: now)
        }
    }

    /// Why this message must not go out, or nil: the number (or the lead) is opted out.
    func blockReason(channel: MessageChannel, to: String, lead: Lead?, tenantId: String) async throws -> String? {
        if lead?.status == .optedOut { return "opted_out" }
        let phone = channel == .sms ? to : lead?.phone
        if let phone, try await services.optOuts.isOptedOut(tenantId: tenantId, phone: phone) { return "opted_out" }
        return nil
    }

    func recipient(_ request: MessageRequest, lead: Lead?) throws -> String {
        switch (request.channel, request.to, lead) {
        case (_, nil, nil):
            throw Problem.validation(field: "leadId", "send a leadId or a to address")
        case (.sms, let to?, _):
            switch LeadRules.checkPhone(to) {
            case .success(let number): return number.e164
            case .failure(let violation): throw Problem.validation(field: "to", violation.message)
            }
        case (.email, let to?, _):
            guard let address = try? EmailAddress.parse(to).get() else { throw Problem.validation(field: "to", "is not a valid email address") }
            return address.normalized
        case (.sms, nil, let lead?):
            return lead.phone
        case (.email, nil, let lead?):
            guard let email = lead.email else { throw Problem.validation(field: "leadId", "this lead has no email address; send to instead") }
            return email
        }
    }

    struct Content {
        var subject: String?
        var text: String
        var html: String?
        var segments: Int?
        var encoding: String?
    }

    /// The message text: a template rendered with the request's variables (the lead's name and
    /// the business name filled in when not given), or the raw body.
    func compose(_ request: MessageRequest, tenant: Tenant, lead: Lead?) async throws -> Content {
        guard let name = request.template else {
            guard let body = request.body?.trimmingWhitespace(), !body.isEmpty else {
                throw Problem.validation(field: "body", "send a body or a template")
            }
            guard body.count <= TemplateRules.maxLength else { throw Problem.validation(field: "body", "must be at most \(TemplateRules.maxLength) characters") }
            if request.channel == .email {
                guard let subject = request.subject?.trimmingWhitespace(), !subject.isEmpty, subject.count <= 200 else {
                    throw Problem.validation(field: "subject", "an email needs a subject of 1 to 200 characters")
                }
                return Content(subject: subject, text: body)
            }
            return Content(text: body)
        }
        guard request.body == nil else { throw Problem.validation(field: "body", "send either a template or a body, not both") }
        guard let definition = services.templates.definition(name) else {
            throw Problem.validation(field: "template", "is not a template; GET /api/templates lists them")
        }
        let allowed = Set(definition.variables)
        let unknown = Set(request.variables.keys).subtracting(allowed).sorted()
        guard unknown.isEmpty else {
            throw Problem.validation(field: "variables", "\(name) takes \(definition.variables.joined(separator: ", ")); unknown: \(unknown.joined(separator: ", "))")
        }
        var values = ["business": tenant.businessName]
        if let leadName = lead?.name { values["name"] = leadName }
        values.merge(request.variables) { _, given in given }
        let parts = try await TemplateStore().effective(definition, tenantId: tenant.id, on: services.database.sql)
        let chosen: [(String, String?)] = request.channel == .sms
            ? [("sms", parts.sms)] : [("emailSubject", parts.emailSubject), ("emailText", parts.emailText), ("emailHtml", parts.emailHtml)]
        var rendered: [String: String] = [:]
        for case let (field, source?) in chosen {
            let probe = VariableProbe()
            _ = try TemplateRules.compile(source, field: field).render(probe)
            let missing = probe.requested.filter { (values[$0] ?? "").isEmpty }.sorted()
            guard missing.isEmpty else {
                throw Problem.validation(field: "variables", "\(name) needs \(missing.joined(separator: ", ")) for this message")
            }
            rendered[field] = try TemplateRules.render(source, field: field, values: values)
        }
        if request.channel == .sms { return Content(text: rendered["sms"] ?? "") }
        return Content(subject: rendered["emailSubject"], text: rendered["emailText"] ?? "", html: rendered["emailHtml"])
    }

    /// The tier's SMS per day, counted from midnight in the tenant's zone.
    func checkQuota(tenant: Tenant, now: Date, on db: any SQLDatabase) async throws {
        let limit = services.tiers.tier(tenant.tier).smsPerDay
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: tenant.timezone) ?? .gmt
        let start = calendar.startOfDay(for: now)
        guard try await store.smsCount(tenantId: tenant.id, since: start, on: db) >= limit else { return }
        let tomorrow = calendar.date(byAdding: .day, value: 1, to: start) ?? now.addingTimeInterval(86_400)
        var problem = Problem(status: .tooManyRequests, slug: "sms-quota", title: "Daily SMS quota reached",
                              detail: "The \(tenant.tier) tier sends at most \(limit) SMS a day; more can be sent after midnight (\(tenant.timezone)).")
        problem.headers["Retry-After"] = String(max(1, Int(tomorrow.timeIntervalSince(now).rounded(.up))))
        throw problem
    }
}
