import BooklineCore
import Foundation
import Testing

@Suite("Lead rules: duplicate window, status transitions, column aliases")
struct LeadRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    static let day: TimeInterval = 86_400
    static let edges: [(TimeInterval, DuplicatePolicy.Decision)] = [
        (0, .skip), (6 * day + 23 * 3600, .skip), (7 * day - 1, .skip),
        (7 * day, .warn), (29 * day + 23 * 3600, .warn), (30 * day - 1, .warn),
        (30 * day, .allow), (31 * day, .allow),
    ]

    @Test(arguments: edges)
    func standardWindow(age: TimeInterval, expected: DuplicatePolicy.Decision) {
        #expect(DuplicatePolicy.standard.decide(lastActivity: now.addingTimeInterval(-age), now: now) == expected)
    }

    @Test func policyValidation() {
        #expect(DuplicatePolicy.standard.problems.isEmpty)
        #expect(DuplicatePolicy(lookbackDays: 5, skipDays: 7).problems.map(\.field) == ["duplicateSkipDays"])
        #expect(DuplicatePolicy(lookbackDays: -1, skipDays: 0).problems.map(\.field) == ["duplicateLookbackDays"])
        #expect(DuplicatePolicy(lookbackDays: 0, skipDays: 0).decide(lastActivity: now, now: now) == .allow)
    }

    @Test func transitions() {
        #expect(LeadStatus.new.canMove(to: .contacted))
        #expect(!LeadStatus.booked.canMove(to: .new))
        #expect(LeadStatus.optedOut.allowedNext.isEmpty)
        for status in LeadStatus.allCases where status != .optedOut {
            #expect(status.canMove(to: .optedOut), "\(status) can always opt out")
            #expect(!status.canMove(to: status), "\(status) to itself is not a move")
        }
    }

    @Test func columnAliases() {
        #expect(LeadField.match("Phone Number") == .phone)
        #expect(LeadField.match("MOBILE") == .phone)
        #expect(LeadField.match("e-mail") == .email)
        #expect(LeadField.match("E-mail Address") == .email)
        #expect(LeadField.match("full_name") == .name)
        #expect(LeadField.match("First Name") == .firstName)
        #expect(LeadField.match("Surname") == .lastName)
        #expect(LeadField.match("\u{FEFF}phone") == .phone)
        #expect(LeadField.match("postcode") == nil)
    }
}

@Suite("Identifiers as time bounds")
struct IdentifierBoundTests {
    @Test func lowerBoundSortsAroundIdsOfThatMillisecond() {
        let instant = Date(timeIntervalSince1970: 1_800_000_000.1234)
        let id = Identifier.make(now: instant)
        #expect(Identifier.lowerBound(for: instant) <= id)
        #expect(Identifier.lowerBound(for: instant.addingTimeInterval(0.001)) > id)
        #expect(Identifier.lowerBound(for: instant.addingTimeInterval(-0.001)) < id)
        #expect(Identifier.isValid(id) && id == id.lowercased() && id.count == 36)
        #expect(Array(id)[14] == "7", "version 7")
    }
}
