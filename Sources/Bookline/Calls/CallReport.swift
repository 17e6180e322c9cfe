import BooklineCore
import Foundation

/// What a provider event or an API client says about a call, before it is merged into the
/// `calls` row. Fields left nil keep what the row already has.
struct CallReport: Sendable {
    var provider: String
    var providerCallId: String
    /// The receipt key for webhook idempotency (`status-update:in-progress`,
    /// `end-of-call-report`); nil for API calls, which are idempotent on their external id.
    var eventType: String?
    var leadId: String?
    var phone: PhoneNumber?
    var direction: String?
    var startedAt: Date?
    var endedAt: Date?
    var durationSeconds: Int?
    var costMinor: Int?
    var currency: String?
    var endedReason: String?
    /// An outcome the client states outright (API calls); otherwise it is classified.
    var outcome: CallOutcome?
    var summary: String?
    var recordingURL: String?
    var structuredData: [String: JSONValue]?
    /// True once the call is over (an end-of-call report, or any recorded call).
    var ended: Bool

    /// The structured data's word for the result, under the names assistants commonly use.
    var structuredOutcome: String? {
        guard let data = structuredData else { return nil }
        for key in ["outcome", "callOutcome", "call_outcome", "result"] {
            if let text = data[key]?.string { return text }
        }
        for key in ["appointmentBooked", "appointment_booked", "booked"] {
            if case .bool(true) = data[key] { return "booked" }
        }
        return nil
    }
}

/// Vapi's server messages (`{"message": {"type": ..., "call": {...}, ...}}`) read into a
/// `CallReport`. Unknown fields are ignored; a body that is not such a message is a 400.
struct VapiMessage: Sendable {
    struct ToolCall: Sendable, Equatable {
        let id: String
        let name: String
        let arguments: JSONValue?
    }

    let type: String
    let report: CallReport?
    let toolCalls: [ToolCall]
    /// Who is on the call (for tools acting on the caller's behalf).
    var customer: PhoneNumber? = nil
    var leadId: String? = nil

    static func parse(_ body: [UInt8]) throws -> VapiMessage {
        guard let root = try? JSONDecoder().decode(JSONValue.self, from: Data(body)), let message = root["message"]?.object else {
            throw Problem.malformedBody("The body must be a JSON object with a `message` object (Vapi's server-message shape).")
        }
        guard let type = message["type"]?.string, !type.isEmpty else {
            throw Problem.validation(field: "message.type", "is required")
        }
        let call = message["call"]?.object ?? [:]
        let callId = call["id"]?.string ?? message["callId"]?.string
        let toolCalls = (message["toolCallList"] ?? message["toolCalls"]).flatMap(Self.toolCalls) ?? []
        let metadata = call["metadata"]?.object ?? message["metadata"]?.object ?? [:]
        let leadId = (metadata["leadId"] ?? metadata["lead_id"])?.string
        let number = call["customer"]?["number"]?.string ?? message["customer"]?["number"]?.string
        let customer = number.flatMap { try? PhoneNumber.parse($0).get() }
        guard ["status-update", "end-of-call-report"].contains(type) else {
            return VapiMessage(type: type, report: nil, toolCalls: toolCalls, customer: customer, leadId: leadId)
        }
        guard let callId, (1...200).contains(callId.count) else {
            throw Problem.validation(field: "message.call.id", "is required for \(type)")
        }
        var report = CallReport(provider: "vapi", providerCallId: callId, ended: type == "end-of-call-report")
        let status = message["status"]?.string ?? ""
        report.eventType = type == "status-update" ? "status-update:\(status)" : type
        report.leadId = leadId
        report.phone = customer
        switch call["type"]?.string {
        case "inboundPhoneCall": report.direction = "inbound"
        case "outboundPhoneCall": report.direction = "outbound"
        default: break
        }
        report.startedAt = (message["startedAt"] ?? call["startedAt"])?.string.flatMap(ISOTime.parse)
        report.endedAt = (message["endedAt"] ?? call["endedAt"])?.string.flatMap(ISOTime.parse)
        if type == "status-update", status == "in-progress", report.startedAt == nil {
            report.startedAt = message["timestamp"]?.double.map { Date(timeIntervalSince1970: $0 / 1000) }
        }
        if let seconds = message["durationSeconds"]?.double, seconds >= 0, seconds < 86_400 * 7 {
            report.durationSeconds = Int(seconds.rounded())
        } else if let start = report.startedAt, let end = report.endedAt, end >= start {
            report.durationSeconds = Int(end.timeIntervalSince(start).rounded())
        }
        if let cost = message["cost"]?.double, cost >= 0, cost < 1_000_000 {
            report.costMinor = Int((cost * 100).rounded(.toNearestOrAwayFromZero))
        }
        report.endedReason = (message["endedReason"] ?? call["endedReason"])?.string.map { String($0.prefix(200)) }
        let analysis = message["analysis"]?.object ?? [:]
        report.structuredData = analysis["structuredData"]?.object
        report.summary = (analysis["summary"] ?? message["summary"])?.string.map { String($0.prefix(10_000)) }
        report.recordingURL = (message["recordingUrl"] ?? message["artifact"]?["recordingUrl"])?.string
            .flatMap { $0.hasPrefix("https://") || $0.hasPrefix("http://") ? String($0.prefix(2000)) : nil }
        return VapiMessage(type: type, report: report, toolCalls: toolCalls, customer: customer, leadId: leadId)
    }

    static func toolCalls(_ value: JSONValue) -> [ToolCall]? {
        guard case .array(let items) = value else { return nil }
        return items.compactMap { item in
            guard let id = item["id"]?.string else { return nil }
            let name = item["function"]?["name"]?.string ?? item["name"]?.string ?? ""
            var arguments = item["function"]?["arguments"] ?? item["arguments"]
            // OpenAI-style tool calls carry their arguments as a JSON string.
            if let text = arguments?.string, let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) {
                arguments = parsed
            }
            return ToolCall(id: id, name: name, arguments: arguments)
        }
    }
}
