import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore

/// How a test signs a voice webhook.
enum VapiAuth {
    case signature(String), secret(String), none
}

extension TestClientProtocol {
    /// Posts a Vapi server message (`{"message": ...}`) to the tenant's voice webhook.
    @discardableResult
    func vapi(_ tenantId: String, _ message: [String: Any], auth: VapiAuth) async throws -> TestResponse {
        let body = try JSONSerialization.data(withJSONObject: ["message": message])
        return try await vapiRaw(tenantId, body: Array(body), auth: auth)
    }

    func vapiRaw(_ tenantId: String, body: [UInt8], auth: VapiAuth) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        switch auth {
        case .signature(let secret):
            headers[HTTPField.Name("X-Vapi-Signature")!] = HMACSignature.hexSHA256(body: body, secret: secret)
        case .secret(let secret):
            headers[HTTPField.Name("X-Vapi-Secret")!] = secret
        case .none:
            break
        }
        return try await execute(uri: "/webhooks/voice/\(tenantId)", method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    /// Sets the tenant's voice webhook secret (and, optionally, its analytics figures).
    func setCallSettings(key: String, _ json: String) async throws {
        let response = try await request(.put, "/api/settings/calls", key: key, json: json)
        guard response.status == .ok else { throw JSONShapeError(text: "call settings: \(response.status) \(response.text)") }
    }
}

/// Vapi message bodies as the provider sends them.
enum Vapi {
    static func statusUpdate(_ callId: String, status: String, number: String = "+447400100123",
                             timestamp: Double = 1_790_000_000_000) -> [String: Any] {
        ["type": "status-update", "status": status, "timestamp": timestamp,
         "call": ["id": callId, "type": "outboundPhoneCall", "customer": ["number": number]]]
    }

    static func endOfCall(_ callId: String, reason: String, outcome: String? = nil, number: String = "+447400100123",
                          startedAt: String = "2026-11-20T10:00:00.000Z", endedAt: String = "2026-11-20T10:03:05.250Z",
                          duration: Double? = 185.25, cost: Double? = 0.42, metadata: [String: Any] = [:]) -> [String: Any] {
        var message: [String: Any] = [
            "type": "end-of-call-report", "endedReason": reason, "startedAt": startedAt, "endedAt": endedAt,
            "call": ["id": callId, "type": "outboundPhoneCall", "customer": ["number": number], "metadata": metadata],
            "summary": "Caller asked about a check-up.",
            "recordingUrl": "https://storage.vapi.ai/\(callId).wav",
            "analysis": ["summary": "Asked about a check-up.", "structuredData": outcome.map { ["outcome": $0] } ?? [:]],
        ]
        if let duration { message["durationSeconds"] = duration }
        if let cost { message["cost"] = cost }
        return message
    }
}
