import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import Metrics

/// `POST /webhooks/voice/{tenant}`: the voice-AI provider's server messages (Vapi's shape).
/// Nothing is read before the tenant's webhook secret verifies the request, by
/// `X-Vapi-Signature` (hex HMAC-SHA256 of the raw body) or by `X-Vapi-Secret` (the secret
/// itself), both compared in constant time; a failure is 403, counted and audited.
struct VoiceWebhookRoutes {
    static let maxBody = 1024 * 1024
    let services: AppServices

    struct Receipt: ResponseEncodable {
        let received: Bool
        let duplicate: Bool
        let callId: String?
    }

    /// Vapi's expected answer to `tool-calls`: one result (or error) per tool call id.
    struct ToolResults: ResponseEncodable {
        struct Result: Encodable {
            let toolCallId: String
            let result: String?
            let error: String?
        }
        let results: [Result]
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("webhooks/voice/{tenant}", use: receive)
    }

    @Sendable func receive(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await services.rateLimiter.check(bucket: "ip:webhook:\(context.remoteIP ?? "unknown")", policy: TwilioWebhookRoutes.ipPolicy)
        let tenantId = try context.parameters.require("tenant")
        guard Identifier.isValid(tenantId), let tenant = try await services.tenants.find(id: tenantId) else {
            throw Problem.notFound("No such tenant.")
        }
        let body = Array(buffer: try await request.body.collect(upTo: Self.maxBody))
        let settings = try await CallSettingsStore().find(tenantId: tenant.id, on: services.database.sql)
        let secret = settings.webhookSecretSealed.flatMap { try? String(decoding: services.box.open($0), as: UTF8.self) }
        let signature = request.headers[HTTPField.Name("X-Vapi-Signature")!]
        let shared = request.headers[HTTPField.Name("X-Vapi-Secret")!]
        let failure: String? = switch (secret, signature, shared) {
        case (nil, _, _): "no_webhook_secret_configured"
        case (let secret?, let signature?, _): HMACSignature.isValid(signature: signature, body: body, secret: secret) ? nil : "invalid_signature"
        case (let secret?, nil, let shared?): constantTimeEquals(Array(shared.utf8), Array(secret.utf8)) ? nil : "invalid_secret"
        case (_, nil, nil): "missing_signature"
        }
        if let failure {
            try await services.rejectWebhook(provider: "vapi", reason: failure, tenant: tenant, request: request,
                                             context: context, detail: "The request's X-Vapi-Signature (or X-Vapi-Secret) does not verify.")
        }

        let message = try VapiMessage.parse(body)
        if message.type == "tool-calls" { return try await toolResults(message, tenant: tenant).response(from: request, context: context) }
        guard let report = message.report else {
            // Other server messages (transcript, speech-update, ...) are acknowledged and ignored.
            return try Receipt(received: true, duplicate: false, callId: nil).response(from: request, context: context)
        }
        let recorded = try await CallService(services: services).record(
            report, tenantId: tenant.id, actor: .system("vapi"), now: services.now()
        )
        return try Receipt(received: true, duplicate: recorded.duplicate, callId: recorded.call.id).response(from: request, context: context)
    }

    /// Each tool call's answer, in order, in the shape Vapi expects.
    func toolResults(_ message: VapiMessage, tenant: Tenant) async throws -> ToolResults {
        let tools = VoiceTools(services: services, tenant: tenant)
        var results: [ToolResults.Result] = []
        for call in message.toolCalls {
            let outcome = await tools.run(call, message: message)
            results.append(.init(toolCallId: call.id, result: outcome.result, error: outcome.error))
        }
        return ToolResults(results: results)
    }

}
