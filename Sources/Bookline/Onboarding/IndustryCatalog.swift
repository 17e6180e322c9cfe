import Foundation
import Yams

/// `tenants/industries/*.yaml`: what a new business of each industry starts with.
public struct IndustryTemplate: Codable, Sendable, Equatable {
    public struct Service: Codable, Sendable, Equatable {
        public var name: String
        public var durationMinutes: Int
        public var priceMinor: Int
    }

    public struct Assistant: Codable, Sendable, Equatable {
        public var greeting: String
        public var tone: String
        public var goal: String
        public var questions: [String]
    }

    public var name: String
    public var displayName: String
    public var currency: String
    public var services: [Service]
    public var openingHours: [String: String]
    public var messages: [String: String]
    public var assistant: Assistant
}

public struct IndustryCatalog: Sendable {
    public let templates: [String: IndustryTemplate]

    public var names: [String] { templates.keys.sorted() }

    /// Loads and checks every template; a broken file stops start-up with its name.
    public static func load(from folder: URL) throws -> IndustryCatalog {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var templates: [String: IndustryTemplate] = [:]
        for file in files.sorted() where file.hasSuffix(".yaml") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            do {
                let template = try YAMLDecoder().decode(IndustryTemplate.self, from: text)
                guard template.name + ".yaml" == file, !template.services.isEmpty else {
                    throw CatalogError(description: "tenants/industries/\(file): name must match the file and services must not be empty")
                }
                templates[template.name] = template
            } catch let error as CatalogError {
                throw error
            } catch {
                throw CatalogError(description: "tenants/industries/\(file) is not a valid industry template: \(error)")
            }
        }
        guard templates["generic"] != nil else {
            throw CatalogError(description: "tenants/industries/generic.yaml is missing")
        }
        return IndustryCatalog(templates: templates)
    }

    struct CatalogError: Error, CustomStringConvertible {
        let description: String
    }
}
