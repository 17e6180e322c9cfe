@testable import Bookline
import Foundation
import Testing

@Suite("Event bus: commits wake subscribers")
struct EventBusTests {
    /// The first wake within a second, or nil.
    static func firstWake(_ subscription: EventBus.Subscription) async throws -> EventBus.Wake? {
        try await withThrowingTaskGroup(of: EventBus.Wake?.self) { group in
            group.addTask { for await wake in subscription.wakes { return wake }; return nil }
            group.addTask { try await Task.sleep(for: .seconds(1)); return nil }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    @Test func aCommittedTransactionWithEventsWakesTheTenantsStreamsOnly() async throws {
        try await withApp { client, services in
            let a = try await services.makeTenant("A")
            let b = try await services.makeTenant("B")
            let bus = services.database.eventBus
            let subA = try #require(bus.subscribe(tenantId: a.id, limit: 5, heartbeat: .seconds(60)))
            let subB = try #require(bus.subscribe(tenantId: b.id, limit: 5, heartbeat: .seconds(60)))
            _ = try await client.createLead(#"{"phone": "07400100001"}"#, key: a.key)
            #expect(try await Self.firstWake(subA) == .events)
            #expect(try await Self.firstWake(subB) == nil)
            // On PostgreSQL the same commit also wakes it through LISTEN/NOTIFY: drain that.
            while try await Self.firstWake(subA) != nil {}
            // A rolled-back transaction wakes nobody.
            await #expect(throws: CancellationError.self) {
                try await services.database.transaction { db in
                    try await EventLog(engine: services.database.engine).append([NewEvent(type: "x")], tenantId: a.id, on: db, now: Date())
                    throw CancellationError()
                }
            }
            #expect(try await Self.firstWake(subA) == nil)
        }
    }
}
