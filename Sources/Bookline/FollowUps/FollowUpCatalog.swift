import BooklineCore
import Foundation
import Yams

/// Loads `tenants/followups.yaml`, refusing at start-up anything it cannot follow exactly.
enum FollowUpCatalog {
    struct CatalogError: Error, CustomStringConvertible {
        let description: String
    }

    struct Step: Decodable {
        let channel: String
        let after: String
    }

    static func load(from url: URL) throws -> FollowUpPlan {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw CatalogError(description: "tenants/followups.yaml not found at \(url.path)")
        }
        return try parse(text)
    }

    static func parse(_ text: String) throws -> FollowUpPlan {
        let file: [String: [Step]]
        do {
            file = try YAMLDecoder().decode([String: [Step]].self, from: text)
        } catch {
            throw CatalogError(description: "tenants/followups.yaml: \(error)")
        }
        var sequences: [CallOutcome: [FollowUpStep]] = [:]
        for (name, steps) in file {
            guard let outcome = CallOutcome(rawValue: name) else {
                throw CatalogError(description: "tenants/followups.yaml: \(name) is not a call outcome (\(CallOutcome.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            sequences[outcome] = try steps.enumerated().map { index, step in
                guard let channel = FollowUpStep.Channel(rawValue: step.channel) else {
                    throw CatalogError(description: "tenants/followups.yaml: \(name) step \(index + 1): channel must be sms, email or call")
                }
                guard let after = FollowUpStep.duration(step.after) else {
                    throw CatalogError(description: "tenants/followups.yaml: \(name) step \(index + 1): after must look like 30m, 6h or 7d")
                }
                return FollowUpStep(channel: channel, after: after)
            }
        }
        return FollowUpPlan(sequences: sequences)
    }
}
