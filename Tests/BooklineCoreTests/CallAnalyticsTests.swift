import BooklineCore
import Foundation
import Testing

@Suite("Call outcomes and analytics math")
struct CallAnalyticsTests {
    static let mappings: [(String?, String?, CallOutcome, Bool)] = [
        ("customer-did-not-answer", "booked", .noAnswer, true),
        ("customer-busy", nil, .busy, true),
        ("voicemail", "interested", .voicemail, true),
        ("twilio-failed-to-connect-call", nil, .failed, true),
        ("call-rejected", nil, .failed, true),
        ("assistant-ended-call", nil, .completed, true),
        ("assistant-ended-call", "Appointment booked", .booked, true),
        ("silence-timed-out", "interested", .interested, true),
        ("exceeded-max-duration", "call back", .callback, true),
        ("customer-ended-call", "not_interested", .notInterested, true),
        ("assistant-ended-call", "maybe later", .completed, true),
        ("pipeline-error-openai-llm-failed", nil, .completed, false),
        ("something-new", "booked", .booked, false),
        (nil, nil, .completed, false),
    ]

    @Test(arguments: mappings)
    func endedReasonsMapToOutcomes(reason: String?, structured: String?, outcome: CallOutcome, known: Bool) {
        let result = CallOutcome.classify(endedReason: reason, structuredOutcome: structured)
        #expect(result.outcome == outcome)
        #expect(result.knownReason == known)
    }

    @Test func ratesAndROI() {
        #expect(AnalyticsMath.conversionRate(booked: 1, total: 3) == 33.3)
        #expect(AnalyticsMath.conversionRate(booked: 2, total: 3) == 66.7)
        #expect(AnalyticsMath.conversionRate(booked: 0, total: 0) == nil)
        #expect(AnalyticsMath.roi(revenueMinor: 30000, costMinor: 1200) == 2400.0)
        #expect(AnalyticsMath.roi(revenueMinor: 500, costMinor: 1000) == -50.0)
        #expect(AnalyticsMath.roi(revenueMinor: 500, costMinor: 0) == nil)
        #expect(AnalyticsMath.change(current: 15, previous: 10) == 50.0)
        #expect(AnalyticsMath.change(current: 1, previous: 0) == nil)
        #expect(AnalyticsMath.share(1, of: 8) == 12.5)
    }

    @Test func moneyRoundsHalfUpInMinorUnits() {
        #expect(AnalyticsMath.costPerBooked(costMinor: 1000, booked: 3) == 333)
        #expect(AnalyticsMath.costPerBooked(costMinor: 1001, booked: 2) == 501)
        #expect(AnalyticsMath.costPerBooked(costMinor: 1000, booked: 0) == nil)
        #expect(AnalyticsMath.divideRounded(-5, by: 2) == -3)
        #expect(AnalyticsMath.divideRounded(7, by: 7) == 1)
    }
}

@Suite("HMAC-SHA256 webhook signatures")
struct HMACSignatureTests {
    /// RFC 4231, test case 2.
    static let body = Array("what do ya want for nothing?".utf8)
    static let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

    @Test func matchesTheRFCVector() {
        #expect(HMACSignature.hexSHA256(body: Self.body, secret: "Jefe") == Self.expected)
        #expect(HMACSignature.isValid(signature: Self.expected.uppercased(), body: Self.body, secret: "Jefe"))
        #expect(HMACSignature.isValid(signature: "sha256=" + Self.expected, body: Self.body, secret: "Jefe"))
    }

    @Test func refusesWrongSecretsBodiesAndShapes() {
        #expect(!HMACSignature.isValid(signature: Self.expected, body: Self.body, secret: "jefe"))
        #expect(!HMACSignature.isValid(signature: Self.expected, body: Self.body + [0x20], secret: "Jefe"))
        #expect(!HMACSignature.isValid(signature: String(Self.expected.dropLast()), body: Self.body, secret: "Jefe"))
        #expect(!HMACSignature.isValid(signature: "", body: Self.body, secret: "Jefe"))
    }
}

@Suite("Lead status after a call")
struct LeadStatusAfterCallTests {
    static let cases: [(CallOutcome, LeadStatus, LeadStatus?)] = [
        (.booked, .new, .booked), (.booked, .booked, nil), (.interested, .contacted, .interested),
        (.callback, .interested, .callback), (.notInterested, .booked, .notInterested),
        (.noAnswer, .new, .contacted), (.noAnswer, .booked, nil), (.voicemail, .interested, nil),
        (.completed, .new, .contacted), (.failed, .contacted, nil),
        (.booked, .optedOut, nil), (.interested, .invalid, nil),
    ]

    @Test(arguments: cases)
    func outcomesMoveLeadsOnlyForward(outcome: CallOutcome, current: LeadStatus, expected: LeadStatus?) {
        #expect(outcome.leadStatus(from: current) == expected)
    }
}

@Suite("Local days for analytics ranges")
struct LocalDaysTests {
    static let london = TimeZone(identifier: "Europe/London")!

    @Test func daylightSavingDaysAre23And25Hours() throws {
        let spring = LocalDays.days(from: try #require(LocalDays.parse("2026-03-28")), through: try #require(LocalDays.parse("2026-03-30")), in: Self.london)
        #expect(spring.map(\.date) == ["2026-03-28", "2026-03-29", "2026-03-30"])
        #expect(spring.map { $0.end.timeIntervalSince($0.start) / 3600 } == [24, 23, 24])
        #expect(spring[1].start == Date(timeIntervalSince1970: 1_774_742_400)) // 2026-03-29T00:00:00Z (GMT)
        #expect(spring[2].start == Date(timeIntervalSince1970: 1_774_825_200)) // 2026-03-29T23:00:00Z (BST)
        let autumn = LocalDays.days(from: try #require(LocalDays.parse("2026-10-25")), through: try #require(LocalDays.parse("2026-10-25")), in: Self.london)
        #expect(autumn.map { $0.end.timeIntervalSince($0.start) / 3600 } == [25])
    }

    @Test func parsesOnlyRealDates() {
        #expect(LocalDays.parse("2026-02-29") == nil)
        #expect(LocalDays.parse("2028-02-29") != nil)
        #expect(LocalDays.parse("2026-1-01") == nil)
        #expect(LocalDays.parse("yesterday") == nil)
        #expect(LocalDays.parse("2026-13-01") == nil)
    }

    @Test func weeksStartOnMonday() throws {
        let wednesday = try #require(LocalDays.parse("2026-11-25"))
        #expect(LocalDays.format(LocalDays.monday(of: wednesday, in: Self.london)) == "2026-11-23")
        let sunday = try #require(LocalDays.parse("2026-11-29"))
        #expect(LocalDays.format(LocalDays.monday(of: sunday, in: Self.london)) == "2026-11-23")
        let monday = try #require(LocalDays.parse("2026-11-23"))
        #expect(LocalDays.format(LocalDays.monday(of: monday, in: Self.london)) == "2026-11-23")
    }
}
