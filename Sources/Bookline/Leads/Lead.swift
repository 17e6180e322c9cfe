import BooklineCore
import Foundation

/// A person a tenant's assistant may call, unique per tenant by phone number.
public struct Lead: Sendable, Equatable {
    public let tenantId: String
    public let id: String
    public var name: String?
    public var phone: String
    public var phoneType: String
    public var email: String?
    public var source: String?
    public var status: LeadStatus
    public var tags: [String]
    public var notes: String?
    public var customFields: [String: JSONScalar]
    public var lastContactedAt: Date?
    public let createdAt: Date
    public var updatedAt: Date

    /// What the duplicate window measures from: the last contact, or creation if never contacted.
    public var lastActivity: Date { lastContactedAt ?? createdAt }

    /// Lower-cased name, phone and email: what `?q=` searches.
    var searchText: String {
        [name, phone, email].compactMap { $0?.lowercased() }.joined(separator: " ")
    }
}

/// A JSON scalar: custom fields hold these and nothing nested, so they stay easy to export and filter.
public enum JSONScalar: Sendable, Equatable, Codable {
    case string(String), integer(Int), number(Double), bool(Bool)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Strings first: they are most custom fields, and every failed attempt throws (and costs).
        if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let int = try? container.decode(Int.self) {
            self = .integer(int)
        } else if let double = try? container.decode(Double.self) {
            self = .number(double)
        } else {
            throw DecodingError.typeMismatch(JSONScalar.self, .init(
                codingPath: decoder.codingPath, debugDescription: "Expected a string, number or boolean."
            ))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }

    /// From any JSON value; nil for arrays, objects and null.
    init?(_ value: JSONValue) {
        switch value {
        case .bool(let bool): self = .bool(bool)
        case .integer(let int): self = .integer(int)
        case .number(let double): self = .number(double)
        case .string(let string): self = .string(string)
        case .null, .array, .object: return nil
        }
    }

    var text: String {
        switch self {
        case .string(let value): value
        case .integer(let value): String(value)
        case .number(let value): String(value)
        case .bool(let value): String(value)
        }
    }
}

/// Lead fields as a client or an import row gives them, before validation.
public struct LeadInput: Sendable, Equatable {
    public var name: String?
    public var phone: String?
    public var email: String?
    public var source: String?
    public var tags: [String]?
    public var notes: String?
    public var customFields: [String: JSONScalar]?

    public init(name: String? = nil, phone: String? = nil, email: String? = nil, source: String? = nil,
                tags: [String]? = nil, notes: String? = nil, customFields: [String: JSONScalar]? = nil) {
        self.name = name
        self.phone = phone
        self.email = email
        self.source = source
        self.tags = tags
        self.notes = notes
        self.customFields = customFields
    }
}

/// Lead fields after validation and normalisation.
public struct LeadDraft: Sendable, Equatable {
    public var name: String?
    public var phone: PhoneNumber
    public var email: String?
    public var source: String?
    public var tags: [String]
    public var notes: String?
    public var customFields: [String: JSONScalar]
}

/// The limits on every lead field, and the checks that apply them. Every problem names the
/// field and carries a short machine-readable reason (used per row in import summaries).
public enum LeadRules {
    public static let maxName = 200
    public static let maxSource = 64
    public static let maxNotes = 4000
    public static let maxTags = 20
    public static let maxTagLength = 40
    public static let maxCustomFields = 50
    public static let maxCustomKey = 64
    public static let maxCustomValue = 500

    public struct Violation: Error, Sendable, Equatable {
        public let field: String
        public let reason: String
        public let message: String
    }

    /// Every problem with one lead.
    public struct Violations: Error, Sendable, Equatable {
        public let items: [Violation]
    }

    /// Validates a complete lead (create or import): a phone is required.
    public static func validate(_ input: LeadInput) -> Result<LeadDraft, Violations> {
        var violations: [Violation] = []
        var phone: PhoneNumber?
        if let raw = input.phone, clean(raw) != nil {
            switch checkPhone(raw) {
            case .success(let number): phone = number
            case .failure(let violation): violations.append(violation)
            }
        } else {
            violations.append(.init(field: "phone", reason: "phone_missing", message: "is required"))
        }
        let name = clean(input.name)
        if let name, name.count > maxName {
            violations.append(.init(field: "name", reason: "name_too_long", message: "must be at most \(maxName) characters"))
        }
        let email = checkEmail(input.email, into: &violations)
        let source = clean(input.source)
        if let source, source.count > maxSource {
            violations.append(.init(field: "source", reason: "source_too_long", message: "must be at most \(maxSource) characters"))
        }
        let notes = clean(input.notes)
        if let notes, notes.count > maxNotes {
            violations.append(.init(field: "notes", reason: "notes_too_long", message: "must be at most \(maxNotes) characters"))
        }
        let tags = checkTags(input.tags ?? [], into: &violations)
        let custom = checkCustomFields(input.customFields ?? [:], into: &violations)
        guard violations.isEmpty, let phone else { return .failure(Violations(items: violations)) }
        return .success(LeadDraft(name: name, phone: phone, email: email, source: source, tags: tags, notes: notes,
                                  customFields: custom))
    }

    /// A phone Bookline may store as a contactable lead: valid, and not premium-rate,
    /// personal (070) or pager (076) numbers.
    public static func checkPhone(_ raw: String) -> Result<PhoneNumber, Violation> {
        switch PhoneNumber.parse(raw) {
        case .failure(let problem):
            return .failure(.init(field: "phone", reason: "phone_\(problem.rawValue)", message: phoneMessage(problem)))
        case .success(let number) where !number.isOutreachAllowed:
            return .failure(.init(
                field: "phone", reason: "phone_\(number.kind.rawValue)",
                message: "is a \(number.kind.rawValue.replacingOccurrences(of: "_", with: " ")) number, which Bookline does not call or text"
            ))
        case .success(let number):
            return .success(number)
        }
    }

    static func phoneMessage(_ problem: PhoneNumber.Problem) -> String {
        switch problem {
        case .empty: "is required"
        case .invalidCharacters: "may contain only digits, spaces, dashes, dots, parentheses and a leading +"
        case .invalidLength: "has the wrong number of digits for its range"
        case .unknownCountryCode: "starts with an unknown country calling code"
        case .notAllocated: "is in a range that is not allocated to phone numbers"
        case .missingCountryCode: "needs a country code (+ or 00) unless it is a UK number starting with 0"
        }
    }

    /// Empty means "no email"; anything else must look like an address.
    static func checkEmail(_ raw: String?, into violations: inout [Violation]) -> String? {
        guard let raw = clean(raw) else { return nil }
        switch EmailAddress.parse(raw) {
        case .success(let email): return email.normalized
        case .failure(let problem):
            violations.append(.init(field: "email", reason: "email_\(problem.rawValue)", message: "is not a valid email address"))
            return nil
        }
    }

    /// Trimmed, de-duplicated (case-insensitively), order kept.
    static func checkTags(_ raw: [String], into violations: inout [Violation]) -> [String] {
        var seen = Set<String>()
        var tags: [String] = []
        for tag in raw {
            guard let tag = clean(tag) else { continue }
            guard tag.count <= maxTagLength, !tag.contains(",") else {
                violations.append(.init(field: "tags", reason: "tag_invalid",
                                        message: "each tag must be 1 to \(maxTagLength) characters without commas"))
                return []
            }
            if seen.insert(tag.lowercased()).inserted { tags.append(tag) }
        }
        if tags.count > maxTags {
            violations.append(.init(field: "tags", reason: "too_many_tags", message: "may hold at most \(maxTags) tags"))
        }
        return tags
    }

    static func checkCustomFields(_ raw: [String: JSONScalar], into violations: inout [Violation]) -> [String: JSONScalar] {
        if raw.count > maxCustomFields {
            violations.append(.init(field: "customFields", reason: "too_many_custom_fields",
                                    message: "may hold at most \(maxCustomFields) fields"))
        }
        for (key, value) in raw {
            if key.isEmpty || key.count > maxCustomKey {
                violations.append(.init(field: "customFields", reason: "custom_field_invalid",
                                        message: "keys must be 1 to \(maxCustomKey) characters"))
                break
            }
            if case .string(let text) = value, text.count > maxCustomValue {
                violations.append(.init(field: "customFields.\(key)", reason: "custom_field_too_long",
                                        message: "must be at most \(maxCustomValue) characters"))
                break
            }
        }
        return raw
    }

    /// Trimmed; nil when empty.
    static func clean(_ raw: String?) -> String? {
        guard let trimmed = raw?.trimmingWhitespace(), !trimmed.isEmpty else { return nil }
        return trimmed
    }
}
