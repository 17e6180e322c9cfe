import Hummingbird
import Synchronization

/// Which methods each route path answers, so an unsupported method gets 405 with `Allow`
/// instead of the router's 404. Filled once the router has all its routes.
final class RouteTable: Sendable {
    private struct Entry {
        let segments: [String]
        var methods: Set<String>
    }

    private let entries = Mutex<[Entry]>([])

    func load(_ routes: [Router<AppRequestContext>.RouteDescription]) {
        var table: [String: Entry] = [:]
        for route in routes {
            let segments = route.path.components.map(\.description)
            table[segments.joined(separator: "/"), default: Entry(segments: segments, methods: [])]
                .methods.insert(route.method.rawValue)
        }
        entries.withLock { $0 = Array(table.values) }
    }

    /// Sorted methods for a concrete path; empty when no route matches it.
    func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let matched = entries.withLock { entries in
            entries.filter { entry in
                entry.segments.count == parts.count && zip(entry.segments, parts).allSatisfy { pattern, part in
                    pattern.hasPrefix("{") || pattern == part
                }
            }
        }
        // Like the router, a literal segment wins over a parameter: /api/leads/import is not /api/leads/{id}.
        func literals(_ entry: Entry) -> [Bool] { entry.segments.map { !$0.hasPrefix("{") } }
        let best = matched.map(literals).max { lhs, rhs in lhs.lexicographicallyPrecedes(rhs) { !$0 && $1 } }
        var methods = Set(matched.filter { literals($0) == best }.flatMap(\.methods))
        if methods.contains("GET") { methods.insert("HEAD") }
        return methods.sorted()
    }
}
