import Foundation
import Hummingbird

/// `GET /api/industries`: the industries a business can sign up as, with their default
/// services (the sign-up wizard pre-fills its services step from this).
struct IndustryRoutes {
    let catalog: IndustryCatalog

    struct IndustryView: Codable {
        let name: String
        let displayName: String
        let currency: String
        let services: [IndustryTemplate.Service]
    }

    struct IndustryList: ResponseEncodable {
        let items: [IndustryView]
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        let list = IndustryList(items: catalog.names.compactMap { catalog.templates[$0] }.map {
            IndustryView(name: $0.name, displayName: $0.displayName, currency: $0.currency, services: $0.services)
        })
        router.get("api/industries") { _, _ in list }
    }
}
