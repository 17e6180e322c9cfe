import BooklineCore
import Foundation
import ServiceLifecycle

/// Runs a `JobWorker` until shutdown, keeping up to `concurrency` jobs in flight: a free slot
/// claims more at once, and an idle worker looks again every `interval`. It also ticks the
/// recurring scheduler. Shutdown stops claiming and lets running jobs finish.
struct JobWorkerService: Service, CustomStringConvertible {
    let worker: JobWorker
    let scheduler: RecurringScheduler
    let interval: Duration
    var description: String { "JobWorkerService(concurrency: \(worker.concurrency))" }

    private enum Event { case finished, tick }

    func run() async throws {
        await withTaskGroup(of: Event.self) { group in
            var inFlight = 0
            var waiting = false
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                await scheduler.tickIfDue()
                let free = worker.concurrency - inFlight
                var claimed: [Job] = []
                // Claim in batches (half the slots, or whenever idle): one claim per job would
                // spend more on transactions than on the jobs.
                if free > 0, inFlight == 0 || free * 2 >= worker.concurrency {
                    do {
                        claimed = try await worker.claim(limit: free)
                    } catch {
                        worker.services.logger.warning("[JOBS] claim failed", metadata: ["error": "\(TransientError.kind(of: error))"])
                    }
                }
                for job in claimed {
                    inFlight += 1
                    group.addTask { await worker.run(job); return .finished }
                }
                if !claimed.isEmpty, claimed.count == free { continue }
                // Nothing (more) to take now: wait for a job to finish or the interval to pass.
                if !waiting {
                    waiting = true
                    group.addTask {
                        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                        return .tick
                    }
                }
                switch await group.next() {
                case .finished?: inFlight -= 1
                case .tick?: waiting = false
                case nil: break
                }
            }
            // Drain: running jobs finish (their leases would otherwise have to expire).
            while let event = await group.next() { if case .finished = event { inFlight -= 1 } }
        }
    }
}
