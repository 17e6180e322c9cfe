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
            guard let json = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return value }
            // Optional fields decode `null` as absent; refuse it for the fields this body has, at
            // any depth, so "not sent" and "null" never blur. Unknown fields are ignored.
            if let field = JSONChecks.firstNull(in: json, decodedAs: value) {
                throw Problem.validation(field: field, "must not be null; leave the field out instead")
            }
            // PostgreSQL cannot store U+0000 in text; no field has a use for it.
            if let field = JSONChecks.firstNUL(in: json) {
                throw Problem.validation(field: field.isEmpty ? "body" : field, "must not contain NUL (U+0000) characters")
            }
            if let owned = T.self as? any PlatformOwnedFields.Type, let object = json as? [String: Any] {
                let sent = owned.platformOwnedFields.filter { object[$0.key] != nil }.sorted { $0.key < $1.key }
                if !sent.isEmpty { throw Problem.validation(sent.map { .init(field: $0.key, message: $0.value) }) }
            }
            return value
        } catch let error as DecodingError {
            throw Self.problem(for: error)
        }
    }

    /// The same for a body that may be left out: an empty body is `empty`.
    public func decodeJSON<T: Decodable>(as type: T.Type, context: some RequestContext, ifEmpty empty: T) async throws -> T {
        var request = self
        guard try await request.collectBody(upTo: context.maxUploadSize).readableBytes > 0 else { return empty }
        return try await request.decodeJSON(as: type, context: context)
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

/// Checks on a decoded body's JSON that `Decodable` cannot express.
enum JSONChecks {
    /// The path of the first JSON `null` given for a field the decoded value has.
    static func firstNull(in json: Any, decodedAs value: Any, path: String = "") -> String? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return firstNull(in: json, decodedAs: wrapped, path: path)
        }
        if let object = json as? [String: Any], mirror.displayStyle == .struct || mirror.displayStyle == .class {
            let fields = Dictionary(mirror.children.compactMap { child in child.label.map { ($0, child.value) } },
                                    uniquingKeysWith: { first, _ in first })
            for key in object.keys.sorted() {
                guard let field = fields[key], let member = object[key] else { continue }
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                if member is NSNull { return memberPath }
                if let found = firstNull(in: member, decodedAs: field, path: memberPath) { return found }
            }
        }
        if let array = json as? [Any], mirror.displayStyle == .collection {
            for (index, (element, decoded)) in zip(array, mirror.children.map(\.value)).enumerated() {
                if let found = firstNull(in: element, decodedAs: decoded, path: "\(path)[\(index)]") { return found }
            }
        }
        return nil
    }

    /// The path of the first string (or object key) holding U+0000; "" for the body itself.
    static func firstNUL(in json: Any, path: String = "") -> String? {
        switch json {
        case let text as String:
            return text.unicodeScalars.contains("\u{0}") ? path : nil
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                if key.unicodeScalars.contains("\u{0}") { return memberPath }
                if let found = firstNUL(in: object[key]!, path: memberPath) { return found }
            }
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = firstNUL(in: element, path: "\(path)[\(index)]") { return found }
            }
        default:
            break
        }
        return nil
    }
}

/// A request body whose callers must not set fields that only the platform decides (a tenant's
/// tier or status, a user's standing, ids). Such a field is refused with a 422 naming it rather
/// than ignored, so a client that tries learns at once that it has no effect; the body type
/// itself has no property for it, so nothing could apply it by mistake.
public protocol PlatformOwnedFields {
    /// Field name -> why the caller may not set it.
    static var platformOwnedFields: [String: String] { get }
}

extension PlatformOwnedFields {
    /// The usual reason, for fields such as ids, owners and timestamps.
    static func setByBookline(_ names: String...) -> [String: String] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, "is set by Bookline, not by the request") })
    }
}
