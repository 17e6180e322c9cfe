@testable import Bookline
import BooklineCore
import Foundation
import Yams
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("openapi.yaml is the contract")
struct OpenAPITests {
    /// `METHOD /path/{param}` for every route the router serves.
    func routerRoutes() async throws -> Set<String> {
        try await TestDatabase.withFresh { config in
            let services = try await AppServices.make(config: config, logger: quietLogger)
            let router = try buildRouter(services)
            await services.database.close()
            return Set(router.routes.map { route in
                let path = route.path.components.map(\.description).joined(separator: "/")
                return "\(route.method) /\(path)"
            })
        }
    }

    @Test func everyRouteIsInTheSpecAndEverySpecRouteExists() async throws {
        let spec = try APISpec.load(from: projectRoot.appendingPathComponent("openapi.yaml"))
        let documented = Set(spec.operations.map { "\($0.method) \($0.path)" })
        let served = try await routerRoutes()
        #expect(served.subtracting(documented).isEmpty, "routes missing from openapi.yaml: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "openapi.yaml names routes that do not exist: \(documented.subtracting(served).sorted())")
        #expect(served.contains("GET /health"))
    }

    @Test func theSpecsTimeZonesAreExactlyTheOnesTheServerAccepts() throws {
        let text = try String(contentsOf: projectRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any])
        let schemas = try #require((root["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let zones = try #require((schemas["TimeZone"] as? [String: Any])?["enum"] as? [String])
        #expect(Set(zones) == TimeZones.known)
        #expect(zones.contains("Europe/London"))
    }

    @Test func unsupportedMethodsAre405WithAllowAndHeadWorks() async throws {
        try await withApp { client, _ in
            let delete = try await client.request(.delete, "/health")
            #expect(delete.status == .methodNotAllowed)
            #expect(delete.headers[.allow] == "GET, HEAD")
            #expect(try delete.problem()["type"] as? String == "urn:bookline:problem:method-not-allowed")
            let trace = try await client.request(.put, "/api/keys/01937f4e-0000-7000-8000-000000000000")
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.headers[.allow] == "DELETE")
            // A literal segment is its own route, not the {id} beside it.
            let options = try await client.request(.options, "/api/leads/import")
            #expect(options.headers[.allow] == "POST")
            let imports = try await client.request(.delete, "/api/leads/imports")
            #expect(imports.headers[.allow] == "GET, HEAD")
            let head = try await client.request(.head, "/health")
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
        }
    }

    @Test func theSpecIsServedAndRenderedAsDocs() async throws {
        try await withApp { client, services in
            let yaml = try await client.request(.get, "/openapi.yaml")
            #expect(yaml.status == .ok)
            #expect(yaml.headers[.contentType]?.hasPrefix("application/yaml") == true)
            let file = try String(contentsOf: projectRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
            #expect(yaml.text == file)
            #expect(yaml.text.hasPrefix("openapi: 3.1"))

            let docs = try await client.request(.get, "/docs")
            #expect(docs.headers[.contentType]?.hasPrefix("text/html") == true)
            for operation in services.spec.operations {
                #expect(docs.text.contains("<code>\(operation.path)</code>"), "\(operation.path)")
            }
            #expect(!docs.text.contains("http://") && !docs.text.contains("https://"), "docs must not load external assets")
        }
    }
}
