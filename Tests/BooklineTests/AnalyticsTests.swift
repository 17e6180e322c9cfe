import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Analytics against a hand-computed fixture in Europe/London across the October 2026 clock
/// change (2026-10-25 is 25 hours long). See `fixture` for each call and the day it lands on.
@Suite("Analytics: summary, daily trend, funnel, weekly report")
struct AnalyticsTests {
    static let start = Date(timeIntervalSince1970: 1_792_929_600) // 2026-10-25T12:00:00Z

    /// (startedAt UTC, phone, outcome or ended reason, duration, cost in pence or nil)
    static let fixture: [(String, String, String, Int, Int?)] = [
        ("2026-10-24T22:30:00Z", "07400100001", "booked", 300, 50),                 // 23:30 BST 24th
        ("2026-10-24T23:30:00Z", "07400100901", "booked", 200, 30),                 // 00:30 BST 25th
        ("2026-10-25T23:30:00Z", "07400100002", "reason:customer-did-not-answer", 0, 5), // 23:30 GMT 25th
        ("2026-10-26T00:30:00Z", "07400100003", "interested", 100, 15),             // 00:30 GMT 26th
        ("2026-10-23T23:30:00Z", "07400100902", "voicemail", 40, 0),                // 00:30 BST 24th
        ("2026-10-23T22:59:59Z", "07400100903", "booked", 90, 20),                  // 23:59 BST 23rd: outside
        ("2026-10-26T23:59:00Z", "07400100904", "reason:brand-new-reason", 61, nil), // 23:59 GMT 26th
        ("2026-10-27T00:00:00Z", "07400100905", "busy", 0, 10),                     // 27th: outside
    ]

    /// Four leads made on the 25th, then the fixture's calls recorded on the 28th.
    static func seed(_ client: any TestClientProtocol, _ services: AppServices, clock: TestClock, key: String) async throws {
        for phone in ["07400100001", "07400100002", "07400100003", "07400100004"] {
            _ = try await client.createLead(#"{"phone": "\#(phone)"}"#, key: key)
        }
        let sms = try await client.request(.post, "/api/messages", key: key, json: #"{"to": "07400100004", "body": "Hello"}"#)
        #expect(sms.status == .created)
        clock.advance(by: 3 * 86_400)
        try await client.setCallSettings(key: key, #"{"averageDealValue": 12000, "currency": "GBP"}"#)
        for (index, (started, phone, result, duration, cost)) in fixture.enumerated() {
            let outcome = result.hasPrefix("reason:") ? #""endedReason": "\#(result.dropFirst(7))""# : #""outcome": "\#(result)""#
            let money = cost.map { #", "cost": {"amount": \#($0), "currency": "GBP"}"# } ?? ""
            let response = try await client.request(.post, "/api/calls", key: key, json: """
                {"externalId": "fx-\(index)", "phone": "\(phone)", "startedAt": "\(started)", "durationSeconds": \(duration), \(outcome)\(money)}
                """)
            guard response.status == .created else { throw JSONShapeError(text: response.text) }
        }
    }

    @Test func summaryMatchesTheHandComputedFixture() async throws {
        let clock = TestClock(Self.start)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            try await Self.seed(client, services, clock: clock, key: tenant.key)
            let summary = try await client.request(.get, "/api/analytics/summary?from=2026-10-24&to=2026-10-26", key: tenant.key)
            #expect(summary.status == .ok)
            let body = try summary.json()
            #expect(body["from"] as? String == "2026-10-24")
            #expect(body["to"] as? String == "2026-10-26")
            #expect(body["timezone"] as? String == "Europe/London")
            #expect(body["totalCalls"] as? Int == 6)
            #expect(body["inProgressCalls"] as? Int == 0)
            #expect(body["conversionRate"] as? Double == 33.3)
            #expect(body["averageDurationSeconds"] as? Int == 117) // 701 / 6 = 116.83
            #expect(body["totalCost"] as? NSDictionary == ["amount": 100, "currency": "GBP"])
            #expect(body["costPerBooking"] as? NSDictionary == ["amount": 50, "currency": "GBP"])
            #expect(body["estimatedRevenue"] as? NSDictionary == ["amount": 24000, "currency": "GBP"])
            #expect(body["roi"] as? Double == 23900.0)
            let outcomes = (body["byOutcome"] as? [[String: Any]] ?? []).reduce(into: [String: String]()) {
                $0[$1["outcome"] as! String] = "\($1["count"] as! Int)/\(($1["percent"] as? Double).map { String($0) } ?? "null")"
            }
            #expect(outcomes == ["booked": "2/33.3", "interested": "1/16.7", "callback": "0/0.0", "not_interested": "0/0.0",
                                 "no_answer": "1/16.7", "voicemail": "1/16.7", "busy": "0/0.0", "failed": "0/0.0",
                                 "completed": "1/16.7"])
            #expect(body["unknownEndedReasons"] as? [NSDictionary] == [["endedReason": "brand-new-reason", "count": 1]])
            let daily = (body["daily"] as? [[String: Any]] ?? []).map {
                "\($0["date"] as! String) \($0["calls"] as! Int) \($0["booked"] as! Int) \($0["cost"] as! Int) \(($0["conversionRate"] as? Double).map { String($0) } ?? "null")"
            }
            #expect(daily == ["2026-10-24 2 1 50 50.0", "2026-10-25 2 1 35 50.0", "2026-10-26 2 0 15 0.0"])
            // Leads made on the 25th: one booked, one contacted (no answer), one interested, one untouched.
            #expect(body["funnel"] as? NSDictionary == ["new": 4, "contacted": 3, "interested": 2, "booked": 1])
            let messages = try #require(body["messages"] as? [String: [String: Int]])
            #expect(messages["sms"] == ["queued": 1, "sent": 0, "delivered": 0, "failed": 0, "blocked": 0, "simulated": 0])
            #expect(messages["email"]?.values.allSatisfy { $0 == 0 } == true)
        }
    }

    /// 94 days run as two concurrent chunks (92 + 2); the split falls between the 24th and 25th.
    @Test func longRangesAddUpAcrossChunks() async throws {
        let clock = TestClock(Self.start)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            try await Self.seed(client, services, clock: clock, key: tenant.key)
            let body = try await client.request(.get, "/api/analytics/summary?from=2026-07-25&to=2026-10-26", key: tenant.key).json()
            let daily = try #require(body["daily"] as? [[String: Any]])
            #expect(daily.count == 94)
            #expect(daily.first?["date"] as? String == "2026-07-25")
            let busy = daily.filter { ($0["calls"] as? Int ?? 0) > 0 }.map { "\($0["date"] as! String) \($0["calls"] as! Int)" }
            #expect(busy == ["2026-10-23 1", "2026-10-24 2", "2026-10-25 2", "2026-10-26 2"])
            #expect(body["totalCalls"] as? Int == 7)
            #expect(body["totalCost"] as? NSDictionary == ["amount": 120, "currency": "GBP"])
        }
    }

    @Test func emptyRangesAndZeroCostGiveNullsNotErrors() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let body = try await client.request(.get, "/api/analytics/summary?from=2026-01-01&to=2026-01-01", key: tenant.key).json()
            #expect(body["totalCalls"] as? Int == 0)
            #expect(body["conversionRate"] is NSNull || body["conversionRate"] == nil)
            #expect(body["roi"] == nil && body["costPerBooking"] == nil && body["averageDurationSeconds"] == nil)
            #expect(body["totalCost"] as? NSDictionary == ["amount": 0, "currency": "GBP"])
            #expect((body["daily"] as? [[String: Any]])?.count == 1)

            // Calls with no cost: ROI stays null rather than dividing by zero.
            _ = try await client.request(.post, "/api/calls", key: tenant.key, json: #"""
                {"phone": "07400100001", "startedAt": "2026-01-01T10:00:00Z", "outcome": "booked"}
                """#)
            let zero = try await client.request(.get, "/api/analytics/summary?from=2026-01-01&to=2026-01-01", key: tenant.key).json()
            #expect(zero["totalCalls"] as? Int == 1)
            #expect(zero["conversionRate"] as? Double == 100.0)
            #expect(zero["roi"] == nil)
            #expect(zero["costPerBooking"] as? NSDictionary == ["amount": 0, "currency": "GBP"])
        }
    }

    @Test func badRangesAreNamed() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            for (query, field) in [("from=2026-02-30", "from"), ("to=yesterday", "to"), ("from=2026-02-01&to=2026-01-01", "from"),
                                   ("from=2024-01-01&to=2026-01-01", "from")] {
                let response = try await client.request(.get, "/api/analytics/summary?\(query)", key: tenant.key)
                #expect(response.status == .unprocessableContent, "\(query)")
                #expect(try response.problem()["errors"].debugDescription.contains("\"\(field)\"") , "\(query)")
            }
            let format = try await client.request(.get, "/api/analytics/weekly?format=pdf", key: tenant.key)
            #expect(format.status == .unprocessableContent)
            let scoped = try await services.makeTenant("Scoped", scopes: ["leads:read"])
            let refused = try await client.request(.get, "/api/analytics/summary", key: scoped.key)
            #expect(try refused.problem()["detail"] as? String == "This credential lacks the analytics:read scope.")
        }
    }

    @Test func tenantsOnlySeeTheirOwnFigures() async throws {
        let clock = TestClock(Self.start)
        try await withApp(now: clock.closure) { client, services in
            let a = try await services.makeTenant("A Dental")
            let b = try await services.makeTenant("B Salon")
            try await Self.seed(client, services, clock: clock, key: a.key)
            let other = try await client.request(.get, "/api/analytics/summary?from=2026-10-24&to=2026-10-26", key: b.key).json()
            #expect(other["totalCalls"] as? Int == 0)
            #expect(other["funnel"] as? NSDictionary == ["new": 0, "contacted": 0, "interested": 0, "booked": 0])
            let weekly = try await client.request(.get, "/api/analytics/weekly?date=2026-10-26", key: b.key).json()
            let calls = (weekly["figures"] as? [[String: Any]])?.first { $0["name"] as? String == "calls" }
            #expect(calls?["current"] as? Int == 0 && calls?["previous"] as? Int == 0)
        }
    }

    @Test func weeklyReportComparesWeeksAsJSONAndHTML() async throws {
        let clock = TestClock(Self.start)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant("Smile <Dental>")
            try await Self.seed(client, services, clock: clock, key: tenant.key)
            let report = try await client.request(.get, "/api/analytics/weekly?date=2026-10-28", key: tenant.key).json()
            #expect(report["week"] as? NSDictionary == ["from": "2026-10-26", "to": "2026-11-01"])
            #expect(report["previousWeek"] as? NSDictionary == ["from": "2026-10-19", "to": "2026-10-25"])
            var figures: [String: [String]] = [:]
            for figure in report["figures"] as? [[String: Any]] ?? [] {
                figures[figure["name"] as! String] = ["current", "previous", "changePercent"].map { key in
                    (figure[key] as? Double).map { String($0) } ?? "null"
                }
            }
            // This week: the 26th, 26th 23:59 and 27th calls; last week: the other five.
            #expect(figures["calls"] == ["3.0", "5.0", "-40.0"])
            #expect(figures["booked"] == ["0.0", "3.0", "-100.0"])
            #expect(figures["conversionRate"] == ["0.0", "60.0", "-100.0"])
            #expect(figures["totalCost"] == ["25.0", "105.0", "-76.2"])
            #expect(figures["costPerBooking"] == ["null", "35.0", "null"])
            #expect(figures["estimatedRevenue"] == ["0.0", "36000.0", "-100.0"])
            #expect(figures["roi"] == ["-100.0", "34185.7", "-100.3"])
            #expect(figures["averageDurationSeconds"] == ["54.0", "126.0", "-57.1"])

            let html = try await client.request(.get, "/api/analytics/weekly?date=2026-10-28&format=html", key: tenant.key)
            #expect(html.headers[.contentType] == "text/html; charset=utf-8")
            #expect(html.text.contains("Smile &lt;Dental&gt;: your week with Bookline"))
            #expect(html.text.contains("<td>Call cost</td><td><strong>£0.25</strong></td><td>£1.05</td>"))
            #expect(html.text.contains("-76.2%"))
            #expect(!html.text.contains("<script"))
        }
    }
}
