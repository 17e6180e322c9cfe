import Foundation
import Hummingbird

/// Pages with clean URLs (`/onboard`, `/dashboard`, `/admin`, `/compliance`, and the emailed links' `/reset-password`, `/verify-email`, `/invite`) served from `public/`. Everything else in
/// `public/` (the landing page, assets) is served by the file middleware.
struct PageRoutes {
    static let pages = ["onboard": "onboard.html", "dashboard": "dashboard.html", "admin": "admin.html", "compliance": "compliance.html",
                        "reset-password": "reset-password.html", "verify-email": "verify-email.html",
                        "invite": "invite.html"]
    let publicFolder: URL

    func addRoutes(to router: Router<AppRequestContext>) throws {
        for (path, file) in Self.pages {
            let html = try String(contentsOf: publicFolder.appendingPathComponent(file), encoding: .utf8)
            router.get(RouterPath(path)) { _, _ in HTML(html) }
        }
    }
}

/// A `text/html` response.
struct HTML: ResponseGenerator {
    let body: String

    init(_ body: String) {
        self.body = body
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}
