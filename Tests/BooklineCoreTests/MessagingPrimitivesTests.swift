import BooklineCore
import Foundation
import Testing

@Suite struct TwilioSignatureTests {
    static let docsURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
    static let docsParameters = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"), ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]

    /// The example of https://www.twilio.com/docs/usage/security. RequestValidator (twilio 9.13.0) computes
    /// 0/KCTR6DLpKmkAf8muzZqo1nDgQ= for it and rejects the "GJVZD8g1vjXaSXyB48xP2Hb4Z1s=" given there, so Bookline
    /// follows the validator.
    @Test func docsExampleAsTwilioValidatorComputesIt() {
        #expect(TwilioSignature.compute(url: Self.docsURL, parameters: Self.docsParameters, authToken: "12345")
            == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        #expect(TwilioSignature.isValid(signature: "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: Self.docsURL,
                                        parameters: Self.docsParameters, authToken: "12345"))
        #expect(!TwilioSignature.isValid(signature: "GJVZD8g1vjXaSXyB48xP2Hb4Z1s=", url: Self.docsURL,
                                         parameters: Self.docsParameters, authToken: "12345"))
    }

    /// twilio-python's own test vector: the same request from +14158675309.
    @Test func twilioLibraryVector() {
        let parameters = Self.docsParameters.map { ($0.0, ["Caller", "From"].contains($0.0) ? "+14158675309" : $0.1) }
        #expect(TwilioSignature.compute(url: Self.docsURL, parameters: parameters, authToken: "12345")
            == "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        #expect(!TwilioSignature.isValid(signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: Self.docsURL,
                                         parameters: parameters, authToken: "54321"))
    }

    @Test func acceptsTheURLWithOrWithoutTheDefaultPort() {
        let fields = [("Body", "hi")]
        let bare = TwilioSignature.compute(url: "https://b.example/sms", parameters: fields, authToken: "t")
        let withPort = TwilioSignature.compute(url: "https://b.example:443/sms", parameters: fields, authToken: "t")
        for signature in [bare, withPort] {
            for url in ["https://b.example/sms", "https://b.example:443/sms"] {
                #expect(TwilioSignature.isValid(signature: signature, url: url, parameters: fields, authToken: "t"))
            }
        }
        #expect(TwilioSignature.isValid(signature: bare, url: "https://b.example:8443/sms", parameters: fields, authToken: "t"))
        #expect(!TwilioSignature.isValid(signature: withPort, url: "https://b.example:8443/sms", parameters: fields, authToken: "t"))
        #expect(!TwilioSignature.isValid(signature: bare, url: "https://b.example:abc/sms", parameters: fields, authToken: "t"))
    }

    @Test func repeatedFieldsCountEachDistinctValueInAnyOrder() {
        let signed = [("MediaUrl", "b"), ("MediaUrl", "a"), ("Body", "x")]
        let signature = TwilioSignature.compute(url: "https://b.example/sms", parameters: signed, authToken: "t")
        let reordered = [("MediaUrl", "a"), ("Body", "x"), ("MediaUrl", "b"), ("MediaUrl", "a")]
        #expect(TwilioSignature.isValid(signature: signature, url: "https://b.example/sms", parameters: reordered, authToken: "t"))
        #expect(!TwilioSignature.isValid(signature: signature, url: "https://b.example/sms", parameters: Array(signed.dropFirst()),
                                         authToken: "t"))
    }

    @Test func jsonBodiesAreCheckedByHashAndSignature() {
        let body = Array(#"{"ok":true}"#.utf8)
        let url = "https://b.example/json?bodySHA256=\(Hex.sha256(body))"
        let signature = TwilioSignature.compute(url: url, parameters: [], authToken: "t")
        #expect(TwilioSignature.isValid(signature: signature, url: url, jsonBody: body, authToken: "t"))
        #expect(!TwilioSignature.isValid(signature: signature, url: url, jsonBody: body + [0x20], authToken: "t"))
        #expect(!TwilioSignature.isValid(signature: signature, url: url, jsonBody: body, authToken: "u"))
        let unhashed = "https://b.example/json"
        let unhashedSignature = TwilioSignature.compute(url: unhashed, parameters: [], authToken: "t")
        #expect(!TwilioSignature.isValid(signature: unhashedSignature, url: unhashed, jsonBody: body, authToken: "t"))
    }
}

/// TwilioSignature against twilio-python's RequestValidator (fixture from scripts/fixtures/make_twilio_fixture.py).
/// No deliberate differences: where the validator raises, the case is invalid and Bookline must say so.
@Suite struct TwilioFixtureTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let name: String
            let authToken: String
            let url: String
            let signature: String
            let form: [[String]]?
            let jsonBody: String?
            let valid: Bool
            let pythonRaises: String?
        }
        let generator: String
        let cases: [Case]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/twilio_signatures.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    @Test func theFixtureIsLargeAndVaried() {
        let cases = Self.fixture.cases
        #expect(cases.count >= 200)
        #expect(cases.filter(\.valid).count >= 100)
        #expect(cases.filter { !$0.valid }.count >= 100)
        #expect(cases.filter { $0.jsonBody != nil && $0.valid }.count >= 20)
        #expect(cases.filter { $0.jsonBody != nil && !$0.valid }.count >= 20)
        #expect(cases.contains { $0.valid && Set(($0.form ?? []).map { $0[0] }).count < ($0.form ?? []).count })
        #expect(cases.contains { $0.valid && ($0.form ?? []).contains { $0[1].unicodeScalars.contains { !$0.isASCII } } })
        for port in [":443/", ":80/", ":8443/"] {
            #expect(cases.contains { $0.valid && $0.url.contains(port) }, "\(port)")
        }
        #expect(cases.allSatisfy { ($0.form == nil) != ($0.jsonBody == nil) && ($0.form ?? []).allSatisfy { $0.count == 2 } })
    }

    @Test func agreesWithTwilioOnEveryCase() {
        var disagreements: [String] = []
        for item in Self.fixture.cases {
            let ours = if let body = item.jsonBody {
                TwilioSignature.isValid(signature: item.signature, url: item.url, jsonBody: Array(body.utf8),
                                        authToken: item.authToken)
            } else {
                TwilioSignature.isValid(signature: item.signature, url: item.url,
                                        parameters: (item.form ?? []).map { ($0[0], $0[1]) }, authToken: item.authToken)
            }
            if ours != item.valid {
                disagreements.append("\(item.name): RequestValidator \(item.valid), Bookline \(ours)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements:\n\(disagreements.joined(separator: "\n"))")
    }
}

@Suite struct SMSSegmentsTests {
    /// GSM 03.38's default alphabet, row by row of the code table (ESC at 0x1B left out).
    static let gsmAlphabet = [
        "@Δ 0¡P¿p", "£_!1AQaq", "$Φ\"2BRbr", "¥Γ#3CScs", "èΛ¤4DTdt", "éΩ%5EUeu", "ùΠ&6FVfv", "ìΨ'7GWgw",
        "òΣ(8HXhx", "ÇΘ)9IYiy", "\nΞ*:JZjz", "Ø+;KÄkä", "øÆ,<LÖlö", "\ræ-=MÑmñ", "Åß.>NÜnü", "åÉ/?O§oà",
    ].joined()

    @Test func emptyIsNoSegments() {
        let count = SMSSegments.count("")
        #expect(count.encoding == .gsm7 && count.segments == 0 && count.characters == 0)
    }

    @Test func theWholeGSMAlphabetIsOneSeptetEach() {
        let count = SMSSegments.count(Self.gsmAlphabet)
        #expect(count.encoding == .gsm7)
        #expect(count.characters == 127)
        #expect(Self.gsmAlphabet.unicodeScalars.count == 127)
    }

    @Test(arguments: [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (1530, 10), (1531, 11)])
    func gsm7Limits(length: Int, segments: Int) {
        let count = SMSSegments.count(String(repeating: "a", count: length))
        #expect(count.encoding == .gsm7)
        #expect(count.segments == segments)
        #expect(count.characters == length)
    }

    @Test func extensionCharactersTakeTwoSeptetsAndAreNotSplit() {
        for character in ["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\u{0C}"] {
            let count = SMSSegments.count(character)
            #expect(count.encoding == .gsm7 && count.characters == 2, "\(character)")
        }
        #expect(SMSSegments.count(String(repeating: "€", count: 80)).segments == 1)
        #expect(SMSSegments.count(String(repeating: "€", count: 81)).segments == 2)
        // 306 septets would fill two segments, but the € cannot straddle the first boundary.
        let straddling = String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152)
        #expect(SMSSegments.count(straddling).characters == 306)
        #expect(SMSSegments.count(straddling).segments == 3)
    }

    @Test func lineBreaksCountByScalar() {
        #expect(SMSSegments.count("a\r\nb").characters == 4)
    }

    @Test(arguments: [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)])
    func ucs2Limits(length: Int, segments: Int) {
        let count = SMSSegments.count(String(repeating: "ç", count: length))  // ç is not GSM; Ç is
        #expect(count.encoding == .ucs2)
        #expect(count.segments == segments)
        #expect(count.characters == length)
    }

    @Test func oneNonGSMCharacterMakesTheWholeBodyUCS2() {
        let count = SMSSegments.count(String(repeating: "a", count: 100) + "’")
        #expect(count.encoding == .ucs2 && count.characters == 101 && count.segments == 2)
    }

    @Test func astralCharactersTakeTwoUnitsAndAreNotSplit() {
        #expect(SMSSegments.count("😀").characters == 2)
        #expect(SMSSegments.count(String(repeating: "😀", count: 35)).segments == 1)
        #expect(SMSSegments.count(String(repeating: "😀", count: 36)).segments == 2)
        let straddling = String(repeating: "ç", count: 66) + "😀" + String(repeating: "ç", count: 66)
        #expect(SMSSegments.count(straddling).characters == 134)
        #expect(SMSSegments.count(straddling).segments == 3)
        #expect(SMSSegments.count("👍🏽").characters == 4, "a skin tone is a second astral scalar")
    }

    @Test func encodingNamesAndLimit() {
        #expect(SMSSegments.Encoding.gsm7.rawValue == "GSM-7")
        #expect(SMSSegments.Encoding.ucs2.rawValue == "UCS-2")
        #expect(SMSSegments.maxSegments == 10)
    }
}

@Suite struct InboundKeywordTests {
    @Test(arguments: [
        ("STOP", InboundKeyword.stop), ("stop", .stop), (" Stop ", .stop), ("STOP.", .stop), ("stop!", .stop),
        ("Stop!!\n", .stop), ("stopall", .stop), ("UNSUBSCRIBE", .stop), ("cancel", .stop), ("CANCEL.", .stop),
        ("end", .stop), ("Quit", .stop), ("optout", .stop), ("opt out", .stop), ("Opt-Out", .stop), ("revoke", .stop),
        ("START", .start), ("unstop", .start), ("Yes", .start), ("yes!", .start),
        ("HELP", .help), ("help?", .help), ("info", .help),
        ("CONFIRM", .confirm), ("confirmed.", .confirm),
        ("cancel appointment", .cancel), ("Cancel my booking please", .cancel), ("CANCEL, sorry", .cancel),
        ("please stop", .other), ("stop stop", .other), ("stopping by later", .other), ("yes please", .other),
        ("no", .other), ("", .other), ("   ", .other), ("!!!", .other), ("s t o p", .other), ("I can't confirm", .other),
    ])
    func classifies(body: String, keyword: InboundKeyword) {
        #expect(InboundKeyword.classify(body) == keyword, "\(body.debugDescription)")
    }

    @Test func rawValuesAreStable() {
        #expect([InboundKeyword.stop, .start, .help, .confirm, .cancel, .other].map(\.rawValue)
            == ["stop", "start", "help", "confirm", "cancel", "other"])
    }
}

@Suite struct QuietHoursTests {
    static let london = TimeZone(identifier: "Europe/London")!
    static let newYork = TimeZone(identifier: "America/New_York")!
    static let utc = TimeZone(identifier: "UTC")!

    /// An instant written in UTC, "2025-03-30 07:00:00".
    static func at(_ text: String) -> Date {
        let numbers = text.split { !$0.isNumber }.map { Int($0)! }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        return calendar.date(from: DateComponents(year: numbers[0], month: numbers[1], day: numbers[2], hour: numbers[3],
                                                  minute: numbers[4], second: numbers.count > 5 ? numbers[5] : 0))!
    }

    @Test func boundaries() {
        let hours = QuietHours()
        #expect(!hours.isQuiet(Self.at("2025-01-15 20:59:59"), in: Self.london))
        #expect(hours.isQuiet(Self.at("2025-01-15 21:00:00"), in: Self.london))
        #expect(hours.isQuiet(Self.at("2025-01-16 07:59:59"), in: Self.london))
        #expect(!hours.isQuiet(Self.at("2025-01-16 08:00:00"), in: Self.london))
        #expect(hours.nextAllowed(after: Self.at("2025-01-15 20:59:59"), in: Self.london) == Self.at("2025-01-15 20:59:59"))
        #expect(hours.nextAllowed(after: Self.at("2025-01-15 21:00:00"), in: Self.london) == Self.at("2025-01-16 08:00"))
        #expect(hours.nextAllowed(after: Self.at("2025-01-16 07:59:59"), in: Self.london) == Self.at("2025-01-16 08:00"))
        #expect(hours.nextAllowed(after: Self.at("2025-01-16 08:00:00"), in: Self.london) == Self.at("2025-01-16 08:00"))
    }

    @Test(arguments: [
        // London summer: 21:00 BST is 20:00 UTC, and 08:00 BST is 07:00 UTC.
        ("2025-07-01 20:00", "2025-07-02 07:00"),
        ("2025-07-01 19:59", "2025-07-01 19:59"),
        // Clocks go forward at 01:00 UTC on 30 March 2025: the evening is GMT, the morning BST.
        ("2025-03-29 21:00", "2025-03-30 07:00"),
        ("2025-03-30 00:59", "2025-03-30 07:00"),
        ("2025-03-30 01:00", "2025-03-30 07:00"),
        // Clocks go back at 01:00 UTC on 26 October 2025: the evening is BST, the morning GMT.
        ("2025-10-25 20:00", "2025-10-26 08:00"),
        ("2025-10-26 00:30", "2025-10-26 08:00"),
        ("2025-10-26 01:30", "2025-10-26 08:00"),
        ("2025-10-26 07:59", "2025-10-26 08:00"),
    ])
    func london(now: String, allowed: String) {
        #expect(QuietHours().nextAllowed(after: Self.at(now), in: Self.london) == Self.at(allowed))
    }

    @Test(arguments: [
        // EST is UTC-5, EDT UTC-4; clocks go forward at 02:00 local on 9 March 2025.
        ("2025-01-15 02:00", "2025-01-15 13:00"),  // 21:00 EST
        ("2025-01-15 01:59", "2025-01-15 01:59"),  // 20:59 EST
        ("2025-03-09 02:30", "2025-03-09 12:00"),  // 21:30 EST on the 8th, to 08:00 EDT
        ("2025-07-04 01:00", "2025-07-04 12:00"),  // 21:00 EDT on the 3rd
        ("2025-07-04 11:59", "2025-07-04 12:00"),
        ("2025-07-04 12:00", "2025-07-04 12:00"),
        ("2025-11-02 05:30", "2025-11-02 13:00"),  // 01:30 EDT on the night the clocks go back, to 08:00 EST
    ])
    func newYork(now: String, allowed: String) {
        #expect(QuietHours().nextAllowed(after: Self.at(now), in: Self.newYork) == Self.at(allowed))
    }

    @Test func aWindowThatDoesNotWrapMidnight() {
        let lunch = QuietHours(start: 12 * 60, end: 14 * 60 + 30)
        #expect(!lunch.isQuiet(Self.at("2025-05-01 11:59:59"), in: Self.utc))
        #expect(lunch.isQuiet(Self.at("2025-05-01 12:00"), in: Self.utc))
        #expect(lunch.nextAllowed(after: Self.at("2025-05-01 13:10"), in: Self.utc) == Self.at("2025-05-01 14:30"))
        #expect(!lunch.isQuiet(Self.at("2025-05-01 14:30"), in: Self.utc))
        #expect(!lunch.isQuiet(Self.at("2025-05-01 23:00"), in: Self.utc))
        #expect(!lunch.isQuiet(Self.at("2025-05-01 03:00"), in: Self.utc))
    }

    @Test func anEndTheClocksSkipOrRepeat() {
        let night = QuietHours(start: 0, end: 90)  // 00:00 to 01:30
        // 01:30 does not exist in London on 30 March 2025: allowed from the jump (01:00 GMT becomes 02:00 BST).
        #expect(night.nextAllowed(after: Self.at("2025-03-30 00:10"), in: Self.london) == Self.at("2025-03-30 01:00"))
        // 01:30 comes twice on 26 October 2025: the first (BST) ends the window.
        #expect(night.nextAllowed(after: Self.at("2025-10-25 23:10"), in: Self.london) == Self.at("2025-10-26 00:30"))
    }

    @Test func emptyWindowAndOutOfRangeMinutes() {
        let never = QuietHours(start: 600, end: 600)
        #expect(!never.isQuiet(Self.at("2025-05-01 10:00"), in: Self.utc))
        #expect(QuietHours(start: -60, end: 24 * 60 + 60) == QuietHours(start: 23 * 60, end: 60))
        #expect(QuietHours() == QuietHours(start: 21 * 60, end: 8 * 60))
    }

    /// Across a year in both zones: the answer is never earlier than now, is allowed, and (when it moved) the
    /// second before it was still quiet, so no allowed moment was skipped.
    @Test(arguments: [QuietHours(), QuietHours(start: 60, end: 90), QuietHours(start: 22 * 60 + 15, end: 2 * 60 + 30)])
    func nextAllowedIsTheFirstAllowedMoment(hours: QuietHours) {
        for zone in [Self.london, Self.newYork] {
            var now = Self.at("2025-01-01 00:00:00")
            while now < Self.at("2026-01-01 00:00") {
                let next = hours.nextAllowed(after: now, in: zone)
                #expect(next >= now && !hours.isQuiet(next, in: zone), "\(now) in \(zone.identifier)")
                if next > now {
                    #expect(hours.isQuiet(next.addingTimeInterval(-1), in: zone), "\(now) in \(zone.identifier)")
                }
                now.addTimeInterval(97 * 60 + 13)
            }
        }
    }
}
