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

@Suite("Appointment slots")
struct AvailabilityTests {
    static let london = TimeZone(identifier: "Europe/London")!

    func days(_ from: String, _ to: String) -> [LocalDay] {
        LocalDays.days(from: LocalDays.parse(from)!, through: LocalDays.parse(to)!, in: Self.london)
    }

    func iso(_ date: Date) -> String { date.formatted(.iso8601) }

    @Test func slotsKeepTheirWallClockTimesAcrossTheClockChange() {
        // Sat 24 Oct (BST), Sun 25 Oct (change), Mon 26 Oct (GMT); open 09:00-10:00 daily.
        let weekly = Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [OpeningInterval(opens: 540, closes: 600)]) })
        let slots = Availability.slots(days: days("2026-10-24", "2026-10-26"), zone: Self.london, weekly: weekly, closed: [],
                                       duration: 1800, step: 1800, busy: [], notBefore: .distantPast)
        #expect(slots.map { iso($0.start) } == [
            "2026-10-24T08:00:00Z", "2026-10-24T08:30:00Z",
            "2026-10-25T09:00:00Z", "2026-10-25T09:30:00Z",
            "2026-10-26T09:00:00Z", "2026-10-26T09:30:00Z",
        ])
    }

    @Test func nightHoursOnTheSpringChangeSkipTheMissingHour() {
        // Sunday 29 March 2026: 01:00-02:00 does not exist in London.
        let weekly = [7: [OpeningInterval(opens: 0, closes: 180)]]
        let slots = Availability.slots(days: days("2026-03-29", "2026-03-29"), zone: Self.london, weekly: weekly, closed: [],
                                       duration: 3600, step: 3600, busy: [], notBefore: .distantPast)
        // 00:00 GMT, then 02:00 BST (= 01:00Z); 03:00 BST closes at 02:00Z, so two one-hour slots.
        #expect(slots.map { iso($0.start) } == ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"])
    }

    @Test func closedDaysBusyTimesAndThePastAreSkipped() {
        let weekly = [1: [OpeningInterval(opens: 540, closes: 720)], 2: [OpeningInterval(opens: 540, closes: 600)]]
        let monday = days("2026-11-23", "2026-11-24")
        let busy = [DateInterval(start: ISO8601DateFormatter().date(from: "2026-11-23T10:00:00Z")!, duration: 1800)]
        let slots = Availability.slots(days: monday, zone: Self.london, weekly: weekly, closed: ["2026-11-24"],
                                       duration: 3600, step: 1800, busy: busy,
                                       notBefore: ISO8601DateFormatter().date(from: "2026-11-23T09:15:00Z")!)
        #expect(slots.map { iso($0.start) } == ["2026-11-23T10:30:00Z", "2026-11-23T11:00:00Z"])
        #expect(OpeningInterval.minutes("24:00") == 1440)
        #expect(OpeningInterval.minutes("24:30") == nil)
        #expect(OpeningInterval.minutes("9:00") == nil)
    }
}
