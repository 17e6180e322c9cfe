import Foundation
import Yams

/// `openapi.yaml`, loaded once: served verbatim at `/openapi.yaml` and rendered at `/docs`.
public struct APISpec: Sendable {
    public struct Operation: Sendable, Equatable {
        public struct Parameter: Sendable, Equatable {
            public let name: String
            public let location: String
            public let required: Bool
            public let description: String
        }
        public struct Reply: Sendable, Equatable {
            public let status: String
            public let description: String
        }
        public let method: String
        public let path: String
        public let summary: String
        public let description: String
        public let tag: String
        public let parameters: [Parameter]
        public let hasBody: Bool
        public let responses: [Reply]
    }

    public let yaml: String
    public let title: String
    public let version: String
    public let summary: String
    public let operations: [Operation]

    static let methods = ["get", "post", "put", "patch", "delete", "head", "options"]

    public init(yaml: String) throws {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any] else { throw SpecError("openapi.yaml is not a mapping") }
        let info = root["info"] as? [String: Any] ?? [:]
        self.yaml = yaml
        self.title = info["title"] as? String ?? "API"
        self.version = "\(info["version"] ?? "")"
        self.summary = info["description"] as? String ?? ""
        let paths = root["paths"] as? [String: Any] ?? [:]
        let sharedResponses = (root["components"] as? [String: Any])?["responses"] as? [String: Any] ?? [:]
        /// A response's description, following `$ref: '#/components/responses/Name'`.
        func describe(_ value: Any) -> String {
            guard let response = value as? [String: Any] else { return "" }
            if let ref = response["$ref"] as? String, let name = ref.split(separator: "/").last {
                return (sharedResponses[String(name)] as? [String: Any])?["description"] as? String ?? ""
            }
            return response["description"] as? String ?? ""
        }
        var operations: [Operation] = []
        for (path, value) in paths {
            guard let item = value as? [String: Any] else { continue }
            let shared = item["parameters"] as? [[String: Any]] ?? []
            for method in Self.methods {
                guard let op = item[method] as? [String: Any] else { continue }
                let parameters = (shared + (op["parameters"] as? [[String: Any]] ?? [])).map { parameter in
                    Operation.Parameter(
                        name: parameter["name"] as? String ?? "",
                        location: parameter["in"] as? String ?? "",
                        required: parameter["required"] as? Bool ?? false,
                        description: parameter["description"] as? String ?? ""
                    )
                }
                let responses = (op["responses"] as? [String: Any] ?? [:]).map { status, value in
                    Operation.Reply(status: status, description: describe(value))
                }.sorted { $0.status < $1.status }
                operations.append(Operation(
                    method: method.uppercased(), path: path,
                    summary: op["summary"] as? String ?? "",
                    description: op["description"] as? String ?? "",
                    tag: (op["tags"] as? [String])?.first ?? "Other",
                    parameters: parameters, hasBody: op["requestBody"] != nil, responses: responses
                ))
            }
        }
        self.operations = operations.sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }

    public static func load(from url: URL) throws -> APISpec {
        try APISpec(yaml: String(contentsOf: url, encoding: .utf8))
    }

    struct SpecError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
