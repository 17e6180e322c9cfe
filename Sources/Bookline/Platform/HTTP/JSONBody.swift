import Foundation
import Hummingbird

extension Request {
    /// Decodes a JSON body strictly: a body that is not JSON, or a field of the wrong type,
    /// becomes a 400 problem that names the field. Validation of values is the caller's job.
    public func decodeJSON<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        if let contentType = headers[.contentType], !contentType.lowercased().hasPrefix("application/json"),
           !contentType.lowercased().contains("+json")
        {
            throw Problem(
                status: .unsupportedMediaType, slug: "unsupported-media-type", title: "Unsupported media type",
                detail: "Send the body as application/json."
            )
        }
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { throw Problem.malformedBody("The request body is empty; send a JSON object.") }
        let data = Data(buffer: buffer)
        do {
            let value = try JSONDecoder.bookline.decode(T.self, from: data)
            // Optional fields decode `null` as absent; refuse it for the fields this body has,
            // so "not sent" and "null" never blur. Unknown fields are ignored, nulls included.
            let known = Set(Mirror(reflecting: value).children.compactMap(\.label))
            if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let field = object.keys.sorted().first(where: { known.contains($0) && object[$0] is NSNull })
            {
                throw Problem.validation(field: field, "must not be null; leave the field out instead")
            }
            return value
        } catch let error as DecodingError {
            throw Self.problem(for: error)
        }
    }

    static func problem(for error: DecodingError) -> Problem {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .malformedBody("The request body is not valid JSON.")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return .malformedBody("\(field) has an invalid value.", field: field)
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .validation(field: field, "is required")
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return .validation(field: field, "must not be null")
        case .typeMismatch(let expected, let context):
            let field = path(context.codingPath)
            let name = field.isEmpty ? "The body" : field
            return .malformedBody("\(name) must be \(describe(expected)).", field: field.isEmpty ? nil : field)
        @unknown default:
            return .malformedBody("The request body could not be read.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        default: "a JSON object"
        }
    }
}
