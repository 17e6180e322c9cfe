import Foundation
import Hummingbird
import Mustache

/// `GET /openapi.yaml` (the contract) and `GET /docs` (the same, as a readable page rendered
/// on the server, so nothing is fetched from the internet).
struct DocsRoutes {
    let spec: APISpec
    let page: String

    init(spec: APISpec) throws {
        self.spec = spec
        let template = try MustacheTemplate(string: Self.template)
        self.page = template.render(Self.viewModel(spec))
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: spec.yaml))
            )
        }
        router.get("docs") { _, _ in
            HTML(page)
        }
    }

    static func viewModel(_ spec: APISpec) -> [String: Any] {
        let tags = Dictionary(grouping: spec.operations, by: \.tag).sorted { $0.key < $1.key }
        return [
            "title": spec.title,
            "version": spec.version,
            "summary": spec.summary,
            "tags": tags.map { tag, operations in
                [
                    "name": tag,
                    "anchor": tag.lowercased().replacingOccurrences(of: " ", with: "-"),
                    "operations": operations.map { op in
                        [
                            "method": op.method,
                            "methodClass": op.method.lowercased(),
                            "path": op.path,
                            "summary": op.summary,
                            "description": op.description,
                            "hasParameters": !op.parameters.isEmpty,
                            "parameters": op.parameters.map {
                                ["name": $0.name, "in": $0.location, "required": $0.required, "description": $0.description]
                            },
                            "hasBody": op.hasBody,
                            "responses": op.responses.map { ["status": $0.status, "description": $0.description] },
                        ] as [String: Any]
                    },
                ] as [String: Any]
            },
        ]
    }

    static let template = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} reference</title>
        <link rel="stylesheet" href="/assets/site.css">
        </head>
        <body>
        <header class="site"><a href="/" class="brand">Bookline</a>
        <nav aria-label="Main"><a href="/onboard">Onboarding</a> <a href="/dashboard">Dashboard</a> <a href="/docs" aria-current="page">API docs</a></nav></header>
        <main class="docs">
        <h1>{{title}} <small>v{{version}}</small></h1>
        <p>{{summary}}</p>
        <p>Machine-readable contract: <a href="/openapi.yaml">openapi.yaml</a> (OpenAPI 3.1).</p>
        <nav aria-label="Sections"><ul class="toc">{{#tags}}<li><a href="#{{anchor}}">{{name}}</a></li>{{/tags}}</ul></nav>
        {{#tags}}
        <section id="{{anchor}}">
        <h2>{{name}}</h2>
        {{#operations}}
        <article class="op">
        <h3><span class="method {{methodClass}}">{{method}}</span> <code>{{path}}</code></h3>
        <p class="summary">{{summary}}</p>
        {{#description}}<p>{{description}}</p>{{/description}}
        {{#hasParameters}}
        <table><caption>Parameters</caption><thead><tr><th>Name</th><th>In</th><th>Required</th><th>Description</th></tr></thead><tbody>
        {{#parameters}}<tr><td><code>{{name}}</code></td><td>{{in}}</td><td>{{#required}}yes{{/required}}{{^required}}no{{/required}}</td><td>{{description}}</td></tr>{{/parameters}}
        </tbody></table>
        {{/hasParameters}}
        {{#hasBody}}<p>Takes a JSON request body (see openapi.yaml for its schema).</p>{{/hasBody}}
        <table><caption>Responses</caption><thead><tr><th>Status</th><th>Meaning</th></tr></thead><tbody>
        {{#responses}}<tr><td>{{status}}</td><td>{{description}}</td></tr>{{/responses}}
        </tbody></table>
        </article>
        {{/operations}}
        </section>
        {{/tags}}
        </main>
        </body>
        </html>
        """
}
