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
        // The same text Foundation's ISO-8601 style writes, across years, leap days and before 1970.
        for seconds in [0.0, 951_782_400.75, 1_709_164_800.5, -86_400.125, 4_102_444_799.0, 1_792_497_600.25] {
            let date = Date(timeIntervalSince1970: seconds)
            let expected = Date(timeIntervalSince1970: (seconds * 1000).rounded() / 1000)
                .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            #expect(ISOTime.string(date) == expected, "\(seconds)")
        }
        // Milliseconds are rounded, not truncated: a stored .999 stays .999 despite binary noise.
        #expect(ISOTime.string(Date(timeIntervalSince1970: 951_782_400.999)) == "2000-02-29T00:00:00.999Z")
        #expect(ISOTime.string(Date(timeIntervalSince1970: 4_102_444_799.001)) == "2099-12-31T23:59:59.001Z")
    }

    @Test func exportLinesAreValidJSONWithEveryEscape() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{00} emoji 🦷 slash / é"
        let value = JSONValue.object(["b": .string(tricky), "a": .array([.integer(-5), .number(2.5), .bool(true), .null]),
                                      "c": .object(["z": .string(""), "y": .number(.infinity)])])
        let line = value.jsonLine
        #expect(String(decoding: line, as: UTF8.self).hasPrefix(#"{"a":[-5,2.5,true,null],"b":"quote \" backslash"#))
        let parsed = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        #expect(parsed["b"] as? String == tricky)
        #expect((parsed["c"] as? [String: Any])?["y"] is NSNull)
        #expect(try JSONDecoder().decode(JSONValue.self, from: line) == JSONValue.object([
            "b": .string(tricky), "a": .array([.integer(-5), .number(2.5), .bool(true), .null]),
            "c": .object(["z": .string(""), "y": .null]),
        ]))
    }

    /// `GET /api/me` is rendered by `JSONWriter`: its bytes must be what the API's JSONEncoder
    /// writes for the same value, with or without the optional fields and with every escape.
    @Test(arguments: [true, false])
    func meIsRenderedAsJSONEncoderWouldRenderIt(withTenant: Bool) throws {
        let tricky = "Smith & \"Sons\" / Zahnärzte 🦷 \\ tab\t nul\u{00} line\n"
        let me = MeRoutes.MeResponse(
            principal: .init(type: "api_key", id: "0195d2a4-7c1e-7b3a-9f00-1234567890ab"),
            role: withTenant ? nil : "admin",
            tenant: withTenant ? .init(id: "t-1", slug: "smith-sons", businessName: tricky, tier: "pro", status: "active") : nil,
            scopes: withTenant ? ["leads:read", "leads:write"] : [],
            authenticatedWith: withTenant ? "api_key" : "jwt"
        )
        var rendered: [UInt8] = []
        JSONWriter.append(me.json, to: &rendered)
        #expect(rendered == Array(try JSONEncoder.bookline.encode(me)))
    }
}
