import Hummingbird
import Metrics

extension AppServices {
    /// Failed webhook verifications allowed per sending address and minute; past it, 429.
    public static let rejectedWebhookPolicy = RateLimitPolicy(name: "webhook-rejected", limit: 60, window: 60)

    /// A provider webhook that failed verification: counted, recorded in error_logs (which also
    /// logs it) and audited as `webhook.rejected` for the tenant, then refused with 403 (429
    /// once the address has failed too often).
    func rejectWebhook(provider: String, reason: String, tenant: Tenant, request: Request, context: AppRequestContext,
                       detail: String) async throws -> Never {
        // A flood of forged requests is refused before it fills the error log and audit chain.
        _ = try await rateLimiter.check(bucket: "ip:webhook-rejected:\(context.remoteIP ?? "unknown")", policy: Self.rejectedWebhookPolicy)
        Counter(label: "bookline_webhooks_rejected_total", dimensions: [("provider", provider), ("reason", reason)]).increment()
        await errors.record(ErrorReport(
            tenantId: tenant.id, service: "webhooks", errorType: "webhook_rejected",
            message: "\(request.method) \(request.uri.path) refused: \(reason)", severity: .warning,
            context: ["provider": provider, "reason": reason], requestId: context.requestId
        ))
        let now = now()
        try await database.transaction { db in
            try await audit.append(AuditEntry(
                tenantId: tenant.id, actor: context.auditActor(request, principal: nil), action: "webhook.rejected",
                targetType: "webhook", targetId: provider, details: ["reason": reason, "path": request.uri.path]
            ), on: db, now: now)
        }
        throw Problem.forbidden(detail)
    }
}
