@testable import Bookline
import BooklineCore
import Foundation
import HummingbirdTesting
import Testing

@Suite("Domain events: Server-Sent Events stream, resume, heartbeats, isolation, polling")
struct EventStreamTests {
    /// Heartbeats every 1.5 s: events must arrive well before one (they are pushed, not polled).
    static func fastHeartbeat(_ config: inout AppConfig) { config.eventHeartbeatSeconds = 1.5 }

    static func data(_ frame: SSEReader.Frame?) -> [String: Any] {
        guard let text = frame?.data, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return object
    }

    @Test func streamsNewEventsOnlyToTheirTenantWithHeartbeatsAndResumes() async throws {
        try await withLiveApp(configure: Self.fastHeartbeat) { client, services, base in
            let a = try await services.makeTenant("A Dental")
            let b = try await services.makeTenant("B Dental")
            _ = try await client.createLead(#"{"phone": "07400100001"}"#, key: a.key)  // before the stream: not sent

            let stream = try await SSEReader.open("\(base)/api/events/stream", headers: [("Authorization", "Bearer \(a.key)")])
            #expect(stream.status == 200)
            #expect(try await stream.next() == SSEReader.Frame())  // "retry: 3000"
            let bLead = try await client.createLead(#"{"phone": "07400100002"}"#, key: b.key)["id"] as! String
            let aLead = try await client.createLead(#"{"phone": "07400100003"}"#, key: a.key)["id"] as! String
            let frame = try #require(try await stream.event(timeout: .milliseconds(700)))
            // Tenant B's event was written first, yet A's stream never sees it.
            #expect(frame.event == "lead_created")
            #expect(Self.data(frame)["subjectId"] as? String == aLead)
            #expect(frame.data?.contains(bLead) == false)
            let seq = try #require(frame.id.flatMap(Int.init))
            #expect(seq == 2)
            var sawHeartbeat = false
            for _ in 0..<5 where !sawHeartbeat { sawHeartbeat = try await stream.next()?.comment == "heartbeat" }
            #expect(sawHeartbeat)

            // Resume after a disconnect: exactly the events after Last-Event-ID, in order.
            _ = try await client.request(.post, "/api/leads/\(aLead)/status", key: a.key, json: #"{"status": "contacted"}"#)
            _ = try await client.createLead(#"{"phone": "07400100004"}"#, key: a.key)
            let resumed = try await SSEReader.open("\(base)/api/events/stream", headers: [
                ("Authorization", "Bearer \(a.key)"), ("Last-Event-ID", String(seq)),
            ])
            let first = try #require(try await resumed.event())
            let second = try #require(try await resumed.event())
            #expect([first.id, second.id] == [String(seq + 1), String(seq + 2)])
            #expect([first.event, second.event] == ["lead_status_changed", "lead_created"])

            // Graceful shutdown ends open streams instead of holding the server up.
            services.database.eventBus.close()
            var ended = false
            for _ in 0..<10 where !ended { ended = try await resumed.next(timeout: .seconds(2)) == nil }
            #expect(ended)
        }
    }

    @Test func aStreamTokenOpensTheStreamFromABrowserWithoutTheKeyInTheURL() async throws {
        let clock = TestClock()
        try await withLiveApp(configure: Self.fastHeartbeat, now: clock.closure) { client, services, base in
            let tenant = try await services.makeTenant()
            let issued = try await client.request(.post, "/api/events/stream-token", key: tenant.key).json()
            let token = try #require(issued["token"] as? String)
            #expect(token.hasPrefix("bks_") && !token.contains(tenant.key))
            #expect(issued["expiresIn"] as? Int == 60)
            #expect(issued["streamUrl"] as? String == "/api/events/stream?token=\(token)")
            let stream = try await SSEReader.open("\(base)/api/events/stream?token=\(token)")
            #expect(stream.status == 200)
            _ = try await client.createLead(#"{"phone": "07400100009"}"#, key: tenant.key)
            #expect(try await stream.event(timeout: .milliseconds(700))?.event == "lead_created")

            // Forged, tampered, expired or missing: 401 problem responses.
            let tampered = String(token.dropLast(2)) + (token.hasSuffix("AA") ? "BB" : "AA")
            for bad in ["bks_nope", tampered, "bks_" + String(repeating: "x", count: 40)] {
                let refused = try await client.request(.get, "/api/events/stream?token=\(bad)")
                #expect(refused.status == .unauthorized)
                #expect(try refused.problem()["detail"] as? String != nil)
            }
            clock.advance(by: 61)
            #expect(try await client.request(.get, "/api/events/stream?token=\(token)").status == .unauthorized)
            #expect(try await client.request(.get, "/api/events/stream").status == .unauthorized)
            // Only the stream takes a token; other routes still need a real credential.
            let fresh = try await client.request(.post, "/api/events/stream-token", key: tenant.key).json()["token"] as! String
            #expect(try await client.request(.get, "/api/events?token=\(fresh)").status == .unauthorized)
        }
    }

    @Test func concurrentStreamsAreCappedByTier() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let limit = services.tiers.tier("free").eventStreams
            #expect(limit == 5)
            let held = (0..<limit).compactMap { _ in
                services.database.eventBus.subscribe(tenantId: tenant.id, limit: limit, heartbeat: .seconds(60))
            }
            #expect(held.count == limit)
            let refused = try await client.request(.get, "/api/events/stream", key: tenant.key)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "5")
            #expect(try refused.problem()["type"] as? String == "urn:bookline:problem:too-many-streams")
            for subscription in held { services.database.eventBus.unsubscribe(tenantId: tenant.id, id: subscription.id) }
            #expect(services.database.eventBus.streamCount(tenantId: tenant.id) == 0)
            let badResume = try await client.request(.get, "/api/events/stream", key: tenant.key, headers: [.lastEventID: "-3"])
            #expect((try badResume.problem()["errors"] as? [[String: Any]])?.first?["field"] as? String == "Last-Event-ID")
        }
    }

    @Test func streamsWhoseClientsLeftFreeTheirPlacesForANewStreamAtOnce() async throws {
        try await withLiveApp { _, services, url in
            let tenant = try await services.makeTenant()
            let port = try #require(URL(string: url)?.port)
            let limit = services.tiers.tier("free").eventStreams
            let tabs = try (0..<limit).map { _ in try RawEventStream.open(port: port, key: tenant.key) }
            #expect(services.database.eventBus.streamCount(tenantId: tenant.id) == limit)
            for tab in tabs { tab.hangUp() }
            // A reload right away: the heartbeat (15 s) has not noticed the closed tabs yet.
            let reload = try RawEventStream.open(port: port, key: tenant.key)  // throws unless 200
            defer {
                reload.hangUp()
                services.database.eventBus.close()  // ends the streams now, not at their next heartbeat
            }
            // The other closed tabs end as their probe writes fail.
            for _ in 0..<40 where services.database.eventBus.streamCount(tenantId: tenant.id) > 1 {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(services.database.eventBus.streamCount(tenantId: tenant.id) == 1)
        }
    }

    @Test func pollingPagesTheSameEventsAndNeverAnotherTenants() async throws {
        try await withApp { client, services in
            let a = try await services.makeTenant("A Dental")
            let b = try await services.makeTenant("B Dental")
            for index in 1...3 { _ = try await client.createLead(#"{"phone": "0740010000\#(index)"}"#, key: a.key) }
            _ = try await client.createLead(#"{"phone": "07400100009"}"#, key: b.key)
            let page = try await client.request(.get, "/api/events?after=1&limit=1", key: a.key).json()
            let items = try #require(page["items"] as? [[String: Any]])
            #expect(items.count == 1 && items.first?["seq"] as? Int == 2 && items.first?["type"] as? String == "lead_created")
            #expect(page["nextAfter"] as? Int == 2)
            let rest = try await client.request(.get, "/api/events?after=2", key: a.key).json()
            #expect((rest["items"] as? [[String: Any]])?.count == 1 && rest["nextAfter"] as? Int == 3)
            let none = try await client.request(.get, "/api/events?after=3", key: a.key).json()
            #expect((none["items"] as? [Any])?.isEmpty == true && none["nextAfter"] as? Int == 3)
            let other = try await client.request(.get, "/api/events", key: b.key).json()
            #expect((other["items"] as? [[String: Any]])?.count == 1)
            for query in ["after=x", "after=-1", "limit=0", "limit=501"] {
                let bad = try await client.request(.get, "/api/events?\(query)", key: a.key)
                #expect(bad.status == .unprocessableContent, "\(query)")
            }
            #expect(try await client.request(.get, "/api/events").status == .unauthorized)
        }
    }

    @Test(.enabled(if: TestDatabase.engine == .postgres, "LISTEN/NOTIFY is PostgreSQL's"))
    func anEventWrittenOnOneInstanceWakesStreamsOnAnother() async throws {
        try await withApp { client, services in
            let other = try await AppServices.make(config: services.config, logger: quietLogger)
            guard case .postgres(let url) = services.config.storage else { return }
            let listener = Task { try await PostgresEventListener(url: url, bus: other.database.eventBus, logger: quietLogger).run() }
            defer { listener.cancel() }
            let tenant = try await services.makeTenant()
            let subscription = try #require(other.database.eventBus.subscribe(tenantId: tenant.id, limit: 5, heartbeat: .seconds(60)))
            try await Task.sleep(for: .milliseconds(300))  // the listener connects
            var woke = false
            for attempt in 0..<10 where !woke {
                _ = try await client.createLead(#"{"phone": "0740010010\#(attempt)"}"#, key: tenant.key)
                woke = try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask { for await wake in subscription.wakes where wake == .events { return true }; return false }
                    group.addTask { try await Task.sleep(for: .seconds(1)); return false }
                    defer { group.cancelAll() }
                    return try await group.next()!
                }
            }
            #expect(woke, "instance 2 never heard of instance 1's event")
            other.database.eventBus.unsubscribe(tenantId: tenant.id, id: subscription.id)
            await other.database.close()
        }
    }
}
