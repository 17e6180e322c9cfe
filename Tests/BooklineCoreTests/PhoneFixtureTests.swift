import BooklineCore
import Foundation
import Testing

/// BooklineCore's phone rules against libphonenumber (fixture from
/// scripts/fixtures/make_phone_fixture.py). Deliberate differences, each with its reason:
/// - Premium-rate (09), personal (070) and pager (076) numbers: both call them valid; Bookline
///   parses them too and flags them as not for outreach, so validity still agrees.
/// - International numbers: Bookline checks the country calling code and national length bounds
///   only, not every national numbering plan, so it may accept a number libphonenumber rejects.
///   Agreement is required on UK numbers, and on the E.164 form wherever both accept a number.
struct PhoneFixtureTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let input: String
            let valid: Bool
            let e164: String?
            let region: String?
        }
        let generator: String
        let cases: [Case]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/phone_numbers.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    static func isUK(_ item: Fixture.Case) -> Bool {
        let digits = item.input.filter(\.isNumber)
        return item.region == "GB" || item.input.trimmingCharacters(in: .whitespaces).hasPrefix("0") && !digits.hasPrefix("00")
            || digits.hasPrefix("44") || digits.hasPrefix("0044") || (item.region == nil && !item.input.contains("+"))
    }

    @Test func theFixtureIsLargeAndVaried() {
        #expect(Self.fixture.cases.count >= 300)
        #expect(Self.fixture.cases.filter(\.valid).count >= 100)
        #expect(Self.fixture.cases.filter { !$0.valid }.count >= 100)
    }

    @Test func ukNumbersAgreeOnValidityAndE164() {
        var disagreements: [String] = []
        for item in Self.fixture.cases where Self.isUK(item) {
            let ours = try? PhoneNumber.parse(item.input).get()
            if (ours != nil) != item.valid || (item.valid && ours?.e164 != item.e164) {
                disagreements.append("\(item.input): libphonenumber \(item.valid ? item.e164 ?? "?" : "invalid"), Bookline \(ours?.e164 ?? "invalid")")
            }
        }
        // Today's rules check UK lengths by range but not Ofcom's unallocated blocks inside a range
        // (e.g. 020 6x, 01632 drama numbers, 07700 9xxxxx), which libphonenumber knows.
        // Issue 5 brings those; this then stops being a known issue and must be unwrapped.
        #expect(disagreements.count <= 20, "\(disagreements.joined(separator: "\n"))")
        withKnownIssue("UK sub-range (Ofcom allocation) rules arrive with the leads issue") {
            #expect(disagreements.isEmpty, "\(disagreements.count) disagreements:\n\(disagreements.joined(separator: "\n"))")
        }
    }

    @Test func internationalNumbersBothAcceptHaveTheSameE164() {
        var accepted = 0
        for item in Self.fixture.cases where !Self.isUK(item) && item.valid {
            guard let ours = try? PhoneNumber.parse(item.input).get() else {
                Issue.record("Bookline refuses \(item.input), which libphonenumber accepts as \(item.e164 ?? "?")")
                continue
            }
            accepted += 1
            #expect(ours.e164 == item.e164, "\(item.input)")
        }
        #expect(accepted >= 50)
    }
}
