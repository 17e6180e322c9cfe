import Foundation
import Yams

/// `tenants/tiers.yaml`: the request budget and quotas of each tier.
public struct TierCatalog: Sendable, Equatable {
    public struct Tier: Codable, Sendable, Equatable {
        public var requestsPerMinute: Int
        public var maxApiKeys: Int
        public var maxLeadsPerImport: Int
        public var smsPerDay: Int
        /// Concurrent event streams per tenant (`GET /api/events/stream`); 10 when not given.
        public var maxEventStreams: Int?
        /// The tier every self-service sign-up lands on; exactly one tier sets it.
        public var `default`: Bool?

        public var eventStreams: Int { maxEventStreams ?? 10 }
        public var isDefault: Bool { self.default ?? false }
    }

    public struct Public: Codable, Sendable, Equatable {
        public var onboardPerHour: Int
        public var loginPer15Minutes: Int
    }

    struct File: Codable {
        var tiers: [String: Tier]
        var `public`: Public
    }

    public let tiers: [String: Tier]
    public let publicLimits: Public
    /// The name of the tier marked `default: true`: where sign-ups start and unknown names fall back.
    public let defaultName: String

    public var names: [String] { tiers.keys.sorted { (tiers[$0]!.requestsPerMinute, $0) < (tiers[$1]!.requestsPerMinute, $1) } }

    public func tier(_ name: String) -> Tier {
        tiers[name] ?? tiers[defaultName]!
    }

    public static func load(from url: URL) throws -> TierCatalog {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw CatalogError(description: "tenants/tiers.yaml not found at \(url.path)")
        }
        return try parse(text)
    }

    public static func parse(_ text: String) throws -> TierCatalog {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw CatalogError(description: "tenants/tiers.yaml is not valid: \(error)")
        }
        for (name, tier) in file.tiers {
            guard name.range(of: "^[a-z][a-z0-9_-]{0,31}$", options: .regularExpression) != nil else {
                throw CatalogError(description: "tenants/tiers.yaml: tier name \"\(name)\" must be lowercase letters, digits, - or _")
            }
            for (field, value) in [("requestsPerMinute", tier.requestsPerMinute), ("maxApiKeys", tier.maxApiKeys),
                                   ("maxLeadsPerImport", tier.maxLeadsPerImport), ("smsPerDay", tier.smsPerDay),
                                   ("maxEventStreams", tier.eventStreams)]
            where value < 1 || value > 1_000_000 {
                throw CatalogError(description: "tenants/tiers.yaml: \(name).\(field) must be from 1 to 1000000 (got \(value))")
            }
        }
        let defaults = file.tiers.filter(\.value.isDefault).map(\.key).sorted()
        guard defaults.count == 1, let defaultName = defaults.first else {
            throw CatalogError(description: "tenants/tiers.yaml must mark exactly one tier `default: true` (found \(defaults.count): \(defaults.joined(separator: ", ")))")
        }
        guard file.public.onboardPerHour >= 1, file.public.loginPer15Minutes >= 1 else {
            throw CatalogError(description: "tenants/tiers.yaml: public limits must be at least 1")
        }
        return TierCatalog(tiers: file.tiers, publicLimits: file.public, defaultName: defaultName)
    }

    public struct CatalogError: Error, CustomStringConvertible {
        public let description: String
    }
}
