import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import Metrics

/// `POST /webhooks/twilio/{tenant}/status` and `/sms`: Twilio's status callbacks and inbound
/// SMS. Nothing happens before `X-Twilio-Signature` is checked against the tenant's auth token
/// (or the platform's) over the public URL and the form parameters; a request that fails is
/// 403, logged, counted and audited as `webhook.rejected`. Both are idempotent on MessageSid.
struct TwilioWebhookRoutes {
    /// Per sending address, before the signature is checked: generous, since one provider
    /// address sends every tenant's callbacks (two or three per message); requests that fail
    /// the check have a budget of their own (`AppServices.rejectWebhook`).
    static let ipPolicy = RateLimitPolicy(name: "webhook", limit: 6000, window: 60)
    static let maxBody = 64 * 1024
    let services: AppServices

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("webhooks/twilio/{tenant}/status", use: status)
        router.post("webhooks/twilio/{tenant}/sms", use: inbound)
    }

    struct Verified {
        let tenant: Tenant
        let settings: MessagingSettings
        let parameters: [String: String]
    }

    /// The per-IP budget, then the signature; throws the 403 (after recording it) when it fails.
    func verify(_ request: Request, context: AppRequestContext) async throws -> Verified {
        // Throws 429 over budget, before any work on the request.
        _ = try await services.rateLimiter.check(bucket: "ip:webhook:\(context.remoteIP ?? "unknown")", policy: Self.ipPolicy)
        let tenantId = try context.parameters.require("tenant")
        guard let tenant = try await services.tenants.find(id: tenantId) else { throw Problem.notFound("No such tenant.") }
        let body = try await request.body.collect(upTo: Self.maxBody)
        let settings = try await MessagingSettingsStore().find(tenantId: tenant.id, on: services.database.sql)
        let token = settings.twilioAuthTokenSealed.flatMap { try? String(decoding: services.box.open($0), as: UTF8.self) }
            ?? services.config.twilio.authToken
        let url = services.config.baseURL + request.uri.description
        let pairs = FormBody.parse(String(buffer: body))
        let signature = request.headers[HTTPField.Name("X-Twilio-Signature")!]
        let isJSON = request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true
        let valid: Bool
        switch (token, signature) {
        case (let token?, let signature?):
            valid = isJSON
                ? TwilioSignature.isValid(signature: signature, url: url, jsonBody: Array(buffer: body), authToken: token)
                : TwilioSignature.isValid(signature: signature, url: url, parameters: pairs, authToken: token)
        default:
            valid = false
        }
        guard valid else {
            let reason = token == nil ? "no_auth_token_configured" : signature == nil ? "missing_signature" : "invalid_signature"
            try await services.rejectWebhook(provider: "twilio", reason: reason, tenant: tenant, request: request, context: context,
                                              detail: "The request's X-Twilio-Signature does not verify.")
        }
        // Signed over the bytes as sent; stored without NUL, which PostgreSQL text cannot hold.
        let stored = pairs.map { ($0.0, Self.storable($0.1)) }
        return Verified(tenant: tenant, settings: settings, parameters: Dictionary(stored, uniquingKeysWith: { first, _ in first }))
    }

    /// A provider's value as text a database can keep: NUL becomes U+FFFD, so nothing is lost silently.
    static func storable(_ value: String) -> String {
        value.unicodeScalars.contains("\u{0}") ? value.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : value
    }

    /// Twilio's delivery statuses, in Bookline's terms (nil: nothing to record yet).
    static func status(from twilio: String) -> MessageStatus? {
        switch twilio.lowercased() {
        case "sending": .sending
        case "sent": .sent
        case "delivered", "read": .delivered
        case "undelivered": .undelivered
        case "failed", "canceled": .failed
        default: nil
        }
    }

    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let verified = try await verify(request, context: context)
        guard let sid = verified.parameters["MessageSid"] ?? verified.parameters["SmsSid"],
              let next = Self.status(from: verified.parameters["MessageStatus"] ?? verified.parameters["SmsStatus"] ?? "")
        else { return .noContent }
        let store = MessageStore(engine: services.database.engine)
        let tenantId = verified.tenant.id
        let ownId = request.uri.queryParameters["message"].map(String.init)
        let now = services.now()
        let errorCode = verified.parameters["ErrorCode"]
        let changed = try await services.database.transaction { db -> Message? in
            var found = try await store.find(provider: "twilio", providerId: sid, on: db)
            // The sender may have died before recording the provider's id: our id is in the callback URL.
            if found == nil, let ownId, Identifier.isValid(ownId) { found = try await store.find(tenantId: tenantId, id: ownId, on: db) }
            guard var message = found, message.tenantId == tenantId, next.rank > message.status.rank || message.providerId == nil
            else { return nil }
            message.provider = "twilio"
            message.providerId = sid
            message.handedAt = nil
            if next.rank >= message.status.rank { message.status = next }
            if next == .delivered { message.deliveredAt = now }
            if let errorCode, !errorCode.isEmpty { message.errorCode = errorCode }
            message.updatedAt = now
            try await store.recordStatus(message, on: db, now: now)
            return message
        }
        // 21610: the recipient replied STOP to the carrier; honour it here too.
        if let changed, errorCode == "21610", let phone = try? PhoneNumber.parse(changed.to).get() {
            _ = try await services.optOuts.add(scope: tenantId, phone: phone, reason: "sms_stop", source: "twilio",
                                               note: "error 21610", actor: .system("twilio"), now: now)
        }
        return .noContent
    }

    @Sendable func inbound(_ request: Request, context: AppRequestContext) async throws -> Response {
        let verified = try await verify(request, context: context)
        let tenant = verified.tenant
        let sid = verified.parameters["MessageSid"] ?? verified.parameters["SmsSid"] ?? ""
        let from = verified.parameters["From"] ?? ""
        let body = String((verified.parameters["Body"] ?? "").prefix(1600))
        let keyword = InboundKeyword.classify(body)
        let phone = try? PhoneNumber.parse(from).get()
        let store = MessageStore(engine: services.database.engine)
        let now = services.now()
        // A replayed MessageSid gets the same answer and changes nothing.
        if !sid.isEmpty, try await store.find(provider: "twilio", providerId: sid, on: services.database.sql) != nil {
            return try await twiml(reply(for: keyword, tenant: tenant, settings: verified.settings))
        }
        let lead = try await phone.asyncFlatMap { try await LeadStore().find(tenantId: tenant.id, phone: $0.e164, on: services.database.sql) }
        let message = Message(
            tenantId: tenant.id, id: Identifier.make(now: now), leadId: lead?.id, channel: .sms, direction: "inbound",
            to: verified.parameters["To"] ?? "", from: phone?.e164 ?? from, template: nil, subject: nil, body: body,
            bodyHtml: nil, status: .received, reason: keyword.rawValue, segments: nil, encoding: nil, provider: "twilio",
            providerId: sid.isEmpty ? nil : sid, errorCode: nil, attempts: 0, sendAt: now, sentAt: nil, deliveredAt: nil,
            createdAt: now, updatedAt: now
        )
        do {
            try await services.database.transaction { db in
                try await store.insert(message, on: db)
                try await EventLog(engine: services.database.engine).append([NewEvent(
                    type: "lead_replied", subjectType: "message", subjectId: message.id,
                    payload: ["message_id": message.id, "lead_id": lead?.id ?? "", "keyword": keyword.rawValue]
                )], tenantId: tenant.id, on: db, now: now)
            }
        } catch where ConstraintViolation.isUnique(error) {
            // The same MessageSid raced in twice: the first one acts.
            return try await twiml(reply(for: keyword, tenant: tenant, settings: verified.settings))
        }
        if let phone {
            switch keyword {
            case .stop:
                _ = try await services.optOuts.add(scope: tenant.id, phone: phone, reason: "sms_stop", source: "sms", note: nil,
                                                   actor: .system("twilio"), now: now)
            case .start:
                _ = try await services.optOuts.withdraw(scope: tenant.id, phone: phone, reason: "START reply",
                                                        actor: .system("twilio"), now: now)
            default:
                break
            }
        }
        services.logger.info("[SMS] received", metadata: ["tenant_id": "\(tenant.id)", "keyword": "\(keyword.rawValue)"])
        let standard = try await reply(for: keyword, tenant: tenant, settings: verified.settings)
        guard let lead, let answer = try await AppointmentReplies(services: services).handle(body: body, keyword: keyword, lead: lead, tenant: tenant)
        else { return try await twiml(standard) }
        // A bare CANCEL also opted the number out: say both.
        return try await twiml(keyword == .stop ? [answer, standard].compactMap { $0 }.joined(separator: " ") : answer)
    }

    /// What Bookline answers: the opt-out confirmation to STOP, a re-subscription note to
    /// START, the tenant's help text to HELP, nothing otherwise.
    func reply(for keyword: InboundKeyword, tenant: Tenant, settings: MessagingSettings) async throws -> String? {
        switch keyword {
        case .stop:
            guard let definition = services.templates.definition("opt_out_confirmation") else { return nil }
            let parts = try await TemplateStore().effective(definition, tenantId: tenant.id, on: services.database.sql)
            return try parts.sms.map { try TemplateRules.render($0, field: "sms", values: ["business": tenant.businessName]) }
        case .start:
            return "You're resubscribed to \(tenant.businessName) messages. Reply STOP to opt out."
        case .help:
            return settings.helpText ?? "\(tenant.businessName): reply STOP to unsubscribe, START to resubscribe."
        case .confirm, .cancel, .other:
            return nil
        }
    }

    func twiml(_ text: String?) async throws -> Response {
        let inner = text.map { "<Message>\(XML.escape($0))</Message>" } ?? ""
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\(inner)</Response>"
        return Response(status: .ok, headers: [.contentType: "text/xml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: xml)))
    }
}

/// `application/x-www-form-urlencoded` bodies as ordered name/value pairs (`+` is a space), as
/// Twilio's signature needs them; Hummingbird's form decoder targets Decodable types instead.
enum FormBody {
    static func parse(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}

enum XML {
    /// Escapes element text (quotes need escaping only inside attributes, which TwiML replies do not use).
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(character)
            }
        }
        return out
    }
}

extension Optional {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
