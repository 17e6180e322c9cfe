import BooklineCore
import Foundation
import Testing

/// BooklineCore's phone rules against libphonenumber (fixture from
/// scripts/fixtures/make_phone_fixture.py). Deliberate differences, each with its reason:
/// - UK numbers: the inputs in `deliberateDifferences` below, and nothing else.
/// - Kinds: Bookline calls 03 and 084/087 numbers `.nonGeographic` (libphonenumber: UAN and premium rate) and 055/056
///   ones `.corporate` (UAN and VoIP); otherwise the kinds match.
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
            let type: String?
        }
        let generator: String
        let cases: [Case]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/phone_numbers.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    /// UK inputs on which Bookline disagrees with libphonenumber on purpose, with the reason. Each must be in the
    /// fixture and still disagree, so the list stays true.
    static let deliberateDifferences: [String: String] = [
        "7400 123456": "no trunk 0 and no country code: Bookline asks for one (missingCountryCode) rather than guess UK",
        "20 7946 0018": "as 7400 123456",
        "0800 123 FLOW": "letters: Bookline refuses vanity numbers rather than convert them",
        "07400 123456 ext. 12": "letters: Bookline refuses extensions rather than drop them",
        "tel:+44-20-7946-0018": "letters: Bookline takes numbers, not tel: URIs",
        "07400/123456": "Bookline takes spaces, dashes, dots and brackets between digits, not slashes",
        "\u{FF10}\u{FF17}\u{FF14}\u{FF10}\u{FF10} 123456": "Bookline takes ASCII digits only, not full-width ones",
    ]

    /// Cases libphonenumber places under +44 (GB and the Crown Dependencies GG, IM and JE share it), or could not
    /// place and that are not written with another country code.
    static func isUK(_ item: Fixture.Case) -> Bool {
        if let region = item.region { return ["GB", "GG", "IM", "JE"].contains(region) }
        let digits = item.input.filter(\.isNumber)
        let international = item.input.contains("+") || digits.hasPrefix("00")
        return !international || digits.drop { $0 == "0" }.hasPrefix("44")
    }

    /// Bookline's kind for a valid UK number of libphonenumber's type.
    static func kind(type: String, e164: String) -> PhoneNumber.Kind? {
        switch type {
        case "FIXED_LINE": .landline
        case "MOBILE": .mobile
        case "TOLL_FREE": .freephone
        case "PREMIUM_RATE": e164.hasPrefix("+449") ? .premium : .nonGeographic
        case "PERSONAL_NUMBER": .personal
        case "PAGER": .pager
        case "UAN": e164.hasPrefix("+4455") ? .corporate : .nonGeographic
        case "VOIP": .corporate
        default: nil
        }
    }

    @Test func theFixtureIsLargeAndVaried() {
        #expect(Self.fixture.cases.count >= 300)
        #expect(Self.fixture.cases.filter(\.valid).count >= 100)
        #expect(Self.fixture.cases.filter { !$0.valid }.count >= 100)
        let uk = Self.fixture.cases.filter(Self.isUK).map(\.input)
        #expect(uk.count >= 300)
        for start in ["07", "+44 ", "0044 ", "44", "+44 (0)", "(0"] {
            #expect(uk.contains { $0.hasPrefix(start) }, "\(start)")
        }
        #expect(uk.contains { $0.filter(\.isNumber).count == 12 && $0.hasPrefix("44") })
        for separator in [" ", "-", ".", "("] {
            #expect(uk.contains { $0.dropFirst().contains(separator) }, "\(separator)")
        }
    }

    @Test func ukNumbersAgreeOnValidityAndE164() {
        var disagreements: [String] = []
        var deliberate: Set<String> = []
        for item in Self.fixture.cases where Self.isUK(item) {
            let ours = try? PhoneNumber.parse(item.input).get()
            if (ours != nil) != item.valid || (item.valid && ours?.e164 != item.e164) {
                if Self.deliberateDifferences[item.input] != nil {
                    deliberate.insert(item.input)
                    continue
                }
                let theirs = item.valid ? item.e164 ?? "?" : "invalid"
                disagreements.append("\(item.input): libphonenumber \(theirs), Bookline \(ours?.e164 ?? "invalid")")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements:\n\(disagreements.joined(separator: "\n"))")
        let stale = Set(Self.deliberateDifferences.keys).subtracting(deliberate)
        #expect(stale.isEmpty, "allowed to disagree but agree, or are not UK cases of the fixture: \(stale.sorted())")
    }

    @Test func ukNumbersAgreeOnKind() {
        for item in Self.fixture.cases where Self.isUK(item) && item.valid {
            guard let ours = try? PhoneNumber.parse(item.input).get(), let type = item.type, let e164 = item.e164 else {
                continue  // a refusal: ukNumbersAgreeOnValidityAndE164 reports it
            }
            #expect(ours.kind == Self.kind(type: type, e164: e164),
                    "\(item.input): libphonenumber \(type), Bookline \(ours.kind)")
            #expect(ours.country == "GB", "\(item.input)")
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
