import Foundation
import Mustache
import Yams

/// The parts of a message template; any may be absent in a tenant's override (the default fills it).
public struct TemplateParts: Sendable, Codable, Equatable {
    public var sms: String?
    public var emailSubject: String?
    public var emailText: String?
    public var emailHtml: String?

    public init(sms: String? = nil, emailSubject: String? = nil, emailText: String? = nil, emailHtml: String? = nil) {
        self.sms = sms
        self.emailSubject = emailSubject
        self.emailText = emailText
        self.emailHtml = emailHtml
    }

    /// Each part with its field name, for validation and merging.
    var named: [(field: String, source: String?)] {
        [("sms", sms), ("emailSubject", emailSubject), ("emailText", emailText), ("emailHtml", emailHtml)]
    }

    /// This override on top of `defaults`, part by part.
    func over(_ defaults: TemplateParts) -> TemplateParts {
        TemplateParts(sms: sms ?? defaults.sms, emailSubject: emailSubject ?? defaults.emailSubject,
                      emailText: emailText ?? defaults.emailText, emailHtml: emailHtml ?? defaults.emailHtml)
    }
}

/// A message template Bookline ships (tenants/templates/NAME.yaml): what it is for, the
/// variables it may use, and its default SMS and email text.
public struct TemplateDefinition: Sendable, Equatable {
    public let name: String
    public let description: String
    public let variables: [String]
    public let defaults: TemplateParts
}

/// Why a template cannot be used: it does not parse, or it names a variable it may not use.
public struct TemplateProblem: Error, Sendable, Equatable {
    public let field: String
    public let message: String
}

/// The default templates, loaded and checked at start-up, and the rules every template
/// (default or a tenant's override) must follow.
public struct TemplateCatalog: Sendable {
    public struct CatalogError: Error, CustomStringConvertible {
        public let description: String
    }

    public let definitions: [String: TemplateDefinition]

    public func definition(_ name: String) -> TemplateDefinition? { definitions[name] }
    public var names: [String] { definitions.keys.sorted() }

    struct File: Decodable {
        struct Email: Decodable {
            var subject: String
            var text: String
            var html: String
        }
        var description: String
        var variables: [String]
        var sms: String
        var email: Email
    }

    public static func load(from folder: URL) throws -> TemplateCatalog {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var definitions: [String: TemplateDefinition] = [:]
        for file in files.sorted() where file.hasSuffix(".yaml") {
            let name = String(file.dropLast(5))
            let path = "tenants/templates/\(file)"
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let parsed: File
            do {
                parsed = try YAMLDecoder().decode(File.self, from: text)
            } catch {
                throw CatalogError(description: "\(path): \(error)")
            }
            let definition = TemplateDefinition(
                name: name, description: parsed.description, variables: parsed.variables,
                defaults: TemplateParts(sms: parsed.sms, emailSubject: parsed.email.subject, emailText: parsed.email.text,
                                        emailHtml: parsed.email.html)
            )
            if let problem = TemplateRules.problems(in: definition.defaults, allowed: Set(parsed.variables)).first {
                throw CatalogError(description: "\(path): \(problem.field) \(problem.message)")
            }
            definitions[name] = definition
        }
        guard !definitions.isEmpty else { throw CatalogError(description: "no templates in \(folder.path)") }
        return TemplateCatalog(definitions: definitions)
    }
}

/// Compiling, checking and rendering templates with swift-mustache. Text parts (SMS, subject,
/// plain text) are rendered without HTML escaping; the HTML part escapes every variable.
public enum TemplateRules {
    public static let maxLength = 5000

    static func isHTML(_ field: String) -> Bool { field == "emailHtml" }

    static func compile(_ source: String, field: String) throws(TemplateProblem) -> MustacheTemplate {
        do {
            return try MustacheTemplate(string: isHTML(field) ? source : "{{% CONTENT_TYPE: TEXT}}" + source)
        } catch {
            throw TemplateProblem(field: field, message: "does not parse as a Mustache template (\(error))")
        }
    }

    /// Parse errors, over-long parts and variables outside `allowed`, by field.
    public static func problems(in parts: TemplateParts, allowed: Set<String>) -> [TemplateProblem] {
        var problems: [TemplateProblem] = []
        for (field, source) in parts.named {
            guard let source else { continue }
            if source.count > maxLength {
                problems.append(TemplateProblem(field: field, message: "must be at most \(maxLength) characters"))
                continue
            }
            do {
                let template = try compile(source, field: field)
                let probe = VariableProbe()
                _ = template.render(probe)
                let unknown = probe.requested.subtracting(allowed).sorted()
                if !unknown.isEmpty {
                    problems.append(TemplateProblem(
                        field: field,
                        message: "uses unknown variable\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")); allowed: \(allowed.sorted().joined(separator: ", "))"
                    ))
                }
            } catch {
                problems.append(error)
            }
        }
        return problems
    }

    /// Renders one part; variables missing from `values` render empty (callers check first).
    public static func render(_ source: String, field: String, values: [String: String]) throws(TemplateProblem) -> String {
        try compile(source, field: field).render(values)
    }
}

/// A rendering context that answers every name (so sections render) and remembers which
/// names the template asked for: the way to find the variables a template uses.
final class VariableProbe: MustacheParent {
    private(set) var requested = Set<String>()

    func child(named name: String) -> Any? {
        requested.insert(name)
        return "x"
    }
}
