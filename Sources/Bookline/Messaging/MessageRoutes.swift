import BooklineCore
import Foundation
import Hummingbird

/// `POST/GET /api/messages`: queue an SMS or email (scope messages:send) and follow it.
struct MessageRoutes {
    let services: AppServices

    struct MessageView: ResponseEncodable {
        let id: String
        let leadId: String?
        let channel: String
        let direction: String
        let to: String
        let from: String?
        let template: String?
        let subject: String?
        let body: String
        let status: String
        /// Why it was blocked or failed (e.g. opted_out).
        let reason: String?
        let segments: Int?
        let encoding: String?
        let providerId: String?
        let errorCode: String?
        let attempts: Int
        let sendAt: Date
        let sentAt: Date?
        let deliveredAt: Date?
        let createdAt: Date
        let updatedAt: Date

        init(_ message: Message) {
            id = message.id
            leadId = message.leadId
            channel = message.channel.rawValue
            direction = message.direction
            to = message.to
            from = message.from
            template = message.template
            subject = message.subject
            body = message.body
            status = message.status.rawValue
            reason = message.reason
            segments = message.segments
            encoding = message.encoding
            providerId = message.providerId
            errorCode = message.errorCode
            attempts = message.attempts
            sendAt = message.sendAt
            sentAt = message.sentAt
            deliveredAt = message.deliveredAt
            createdAt = message.createdAt
            updatedAt = message.updatedAt
        }
    }

    struct MessagePage: ResponseEncodable {
        let items: [MessageView]
        let nextCursor: String?
    }

    struct SendBody: Decodable, PlatformOwnedFields {
        static let platformOwnedFields = setByBookline("id", "tenantId", "status", "provider", "providerId", "segments",
                                                       "encoding", "attempts", "createdAt")

        var channel: String?
        var leadId: String?
        var to: String?
        var template: String?
        var variables: [String: String]?
        var body: String?
        var subject: String?
        var sendAt: Date?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post("messages", use: send)
        group.get("messages", use: list)
        group.get("messages/{id}", use: show)
    }

    @Sendable func send(_ request: Request, context: TenantRequestContext) async throws -> EditedResponse<MessageView> {
        try context.tenant.require(.messagesSend)
        let body = try await request.decodeJSON(as: SendBody.self, context: context)
        guard let channel = MessageChannel(rawValue: body.channel ?? "sms") else {
            throw Problem.validation(field: "channel", "must be sms or email")
        }
        if let variables = body.variables, variables.count > 50 || variables.values.contains(where: { $0.count > 500 }) {
            throw Problem.validation(field: "variables", "at most 50 variables of up to 500 characters each")
        }
        guard let tenant = try await services.tenants.find(id: context.tenant.tenantId) else { throw Problem.notFound() }
        let message = try await MessageService(services: services).enqueue(
            MessageRequest(channel: channel, leadId: body.leadId, to: body.to, template: body.template,
                           variables: body.variables ?? [:], body: body.body, subject: body.subject, sendAt: body.sendAt),
            tenant: tenant, actor: context.auditActor(request), now: services.now()
        )
        var response = EditedResponse(status: .created, response: MessageView(message))
        response.headers[.location] = "/api/messages/\(message.id)"
        return response
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> MessagePage {
        try context.tenant.require(.messagesSend)
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var filter = MessageStore.Filter()
        if let text = query["status"] {
            if let status = MessageStatus(rawValue: String(text)) { filter.status = status } else {
                errors.append(.init(field: "status", message: "must be one of \(MessageStatus.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        if let text = query["channel"] {
            if let channel = MessageChannel(rawValue: String(text)) { filter.channel = channel } else {
                errors.append(.init(field: "channel", message: "must be sms or email"))
            }
        }
        if let text = query["direction"] {
            if ["inbound", "outbound"].contains(text) { filter.direction = String(text) } else {
                errors.append(.init(field: "direction", message: "must be inbound or outbound"))
            }
        }
        if let text = query["leadId"] {
            if Identifier.isValid(text) { filter.leadId = String(text) } else {
                errors.append(.init(field: "leadId", message: "is not a lead id"))
            }
        }
        let paging = PageQuery(query, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let rows = try await MessageStore(engine: services.database.engine).list(
            tenantId: context.tenant.tenantId, filter: filter, limit: paging.limit + 1, cursor: paging.cursor, on: services.database.sql
        )
        let page = paging.page(rows, id: \.id)
        return MessagePage(items: page.items.map(MessageView.init), nextCursor: page.nextCursor)
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> MessageView {
        try context.tenant.require(.messagesSend)
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id), let message = try await MessageStore(engine: services.database.engine)
            .find(tenantId: context.tenant.tenantId, id: id, on: services.database.sql)
        else { throw Problem.notFound("No message with this id.") }
        return MessageView(message)
    }
}
