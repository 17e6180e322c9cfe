import Foundation

/// Finds the folder holding `migrations/`, `public/` and `tenants/`: `BOOKLINE_HOME` when set,
/// else the working directory or one of its parents, else the executable's folder or a parent
/// (so `.build/debug/bookline` works from anywhere inside the checkout).
public struct ResourcePaths: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public static func locate(configured: String?) -> ResourcePaths {
        if let configured { return ResourcePaths(root: URL(fileURLWithPath: configured)) }
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent()
        for start in [cwd, executable] {
            var candidate = start.standardizedFileURL
            for _ in 0..<6 {
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("migrations").path) {
                    return ResourcePaths(root: candidate)
                }
                candidate.deleteLastPathComponent()
            }
        }
        return ResourcePaths(root: cwd)
    }

    public var migrations: URL { root.appendingPathComponent("migrations") }
    public var publicFiles: URL { root.appendingPathComponent("public") }
    public var tenants: URL { root.appendingPathComponent("tenants") }
    public var openAPISpec: URL { root.appendingPathComponent("openapi.yaml") }
}
