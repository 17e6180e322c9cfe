import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Background imports running in this process. On shutdown each is cancelled; it stops after
/// its current batch and records itself as interrupted, with the rows already committed.
public final class ImportRunner: Sendable {
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])

    public init() {}

    func start(id: String, _ work: @escaping @Sendable () async -> Void) {
        tasks.withLock { tasks in
            tasks[id] = Task { [weak self] in
                await work()
                self?.finished(id)
            }
        }
    }

    private func finished(_ id: String) {
        _ = tasks.withLock { $0.removeValue(forKey: id) }
    }

    /// Waits for one import (tests use it to wait for a background import).
    public func wait(for id: String) async {
        await tasks.withLock { $0[id] }?.value
    }

    public var runningCount: Int { tasks.withLock { $0.count } }

    public func cancelAll() async {
        let running = tasks.withLock { Array($0.values) }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }
}

/// Ties background imports to the server's lifecycle.
struct ImportRunnerService: Service {
    let runner: ImportRunner

    func run() async throws {
        try? await gracefulShutdown()
        await runner.cancelAll()
    }
}
