@testable import Bookline
import Foundation
import Testing

@Suite("RFC 3339 times in bodies and queries")
struct ISOTimeTests {
    static let cases: [(String, Double?)] = [
        ("2026-11-20T09:00:00Z", 1_795_165_200),
        ("2026-11-20T09:00:00.250Z", 1_795_165_200.25),
        ("2026-11-20t09:00:00z", 1_795_165_200),
        ("2026-11-20 09:00:00Z", 1_795_165_200),
        ("2026-11-20T10:30:00+01:30", 1_795_165_200),
        ("2026-11-20T00:00:00-09:00", 1_795_165_200),
        ("4612-12-06T14:56:29+22:38", 83_402_756_309),
        ("2000-02-29T00:00:00Z", 951_782_400),
        ("1900-01-01T00:00:00Z", -2_208_988_800),
        ("2026-02-29T00:00:00Z", nil),
        ("2026-11-20T24:00:00Z", nil),
        ("2026-11-20T09:00:00", nil),
        ("2026-11-20T09:00:00.Z", nil),
        ("2026-11-20T09:00:00+2400", nil),
        ("yesterday", nil),
    ]

    @Test(arguments: cases)
    func parses(text: String, expected: Double?) {
        #expect(ISOTime.parse(text)?.timeIntervalSince1970 == expected)
    }

    @Test func writesUTCWithMillisecondsAndZ() {
        let text = ISOTime.string(Date(timeIntervalSince1970: 1_792_497_600.25))
        #expect(text == "2026-10-20T12:00:00.250Z")
        #expect(ISOTime.parse(text)?.timeIntervalSince1970 == 1_792_497_600.25)
    }
}
