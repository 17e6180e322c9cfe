import Hummingbird
import Metrics

extension AppServices {
    /// A provider webhook that failed verification: counted, recorded in error_logs (which also
    /// logs it) and audited as `webhook.rejected` for the tenant, then refused with 403.
    func rejectWebhook(provider: String, reason: String, tenant: Tenant, request: Request, context: AppRequestContext,
                       detail: String) async throws -> Never {
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
