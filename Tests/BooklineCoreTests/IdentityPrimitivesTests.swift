import BooklineCore
import Foundation
import Testing

@Suite struct APIKeyFormatTests {
    @Test func generatedKeysParseAndHaveTheDocumentedShape() throws {
        let key = APIKeyFormat.generate(.live)
        #expect(key.key.hasPrefix("bk_live_"))
        #expect(key.key.count == 8 + 32 + 6)
        let parsed = try #require(APIKeyFormat.parse(key.key))
        #expect(parsed == key)
        #expect(parsed.hash.count == 64)
        #expect(parsed.displayPrefix == String(key.key.prefix(12)))
        #expect(APIKeyFormat.parse(APIKeyFormat.generate(.test).key)?.environment == .test)
    }

    @Test func typosAndForgeriesFailTheChecksum() {
        let key = APIKeyFormat.generate(.live).key
        var chars = Array(key)
        chars[20] = chars[20] == "a" ? "b" : "a"
        #expect(APIKeyFormat.parse(String(chars)) == nil, "one changed character")
        #expect(APIKeyFormat.parse(key.dropLast()) == nil, "truncated")
        #expect(APIKeyFormat.parse(key.replacingOccurrences(of: "bk_live_", with: "bk_prod_")) == nil)
        #expect(APIKeyFormat.parse("bk_live_" + String(repeating: "A", count: 38)) == nil)
        #expect(APIKeyFormat.parse("bk_live_" + String(repeating: "!", count: 38)) == nil)
        #expect(APIKeyFormat.parse("") == nil)
    }

    @Test func keysAreUnique() {
        #expect(Set((0..<2000).map { _ in APIKeyFormat.generate().key }).count == 2000)
    }

    @Test func constantTimeEqualityIsEquality() {
        #expect(constantTimeEquals("abc", "abc"))
        #expect(!constantTimeEquals("abc", "abd"))
        #expect(!constantTimeEquals("abc", "abcd"))
    }
}

@Suite struct EmailAddressTests {
    @Test(arguments: [
        ("  Owner@Smile-Dental.CO.UK ", "Owner@smile-dental.co.uk"),
        ("first.last+tag@example.com", "first.last+tag@example.com"),
    ])
    func normalises(raw: String, expected: String) throws {
        #expect(try EmailAddress.parse(raw).get().normalized == expected)
    }

    @Test(arguments: [
        ("", EmailAddress.Problem.empty), ("no-at-sign", .missingAt), ("@example.com", .invalidLocalPart),
        ("a..b@example.com", .invalidLocalPart), ("a b@example.com", .invalidLocalPart), ("a@localhost", .invalidDomain),
        ("a@-x.com", .invalidDomain), ("a@example.c", .invalidDomain), ("a@exa_mple.com", .invalidDomain),
        ("a@example..com", .invalidDomain),
    ])
    func rejects(raw: String, problem: EmailAddress.Problem) {
        #expect(throws: problem) { try EmailAddress.parse(raw).get() }
    }
}

@Suite struct PasswordPolicyTests {
    @Test func acceptsALongUncommonPassword() {
        #expect(PasswordPolicy.check("correct-horse-battery-42") == nil)
    }

    @Test(arguments: [
        ("short", PasswordPolicy.Problem.tooShort), ("password1234", .common), ("aaaaaaaaaaaaaaaa", .common),
        (String(repeating: "x1", count: 200), .tooLong),
    ])
    func refuses(password: String, problem: PasswordPolicy.Problem) {
        #expect(PasswordPolicy.check(password) == problem)
    }

    @Test func refusesTheBusinessNameWithDigits() {
        #expect(PasswordPolicy.check("SmileDental2024!", context: ["smiledental"]) == .common)
    }
}

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("07400 100123", "+447400100123", PhoneNumber.Kind.mobile),
        ("+44 7400-100-123", "+447400100123", .mobile),
        ("0044 7400 100123", "+447400100123", .mobile),
        ("447400100123", "+447400100123", .mobile),
        ("+44 (0)20 7946 0018", "+442079460018", .landline),
        ("(020) 7946.0018", "+442079460018", .landline),
        ("0161 496 0000", "+441614960000", .landline),
        ("0300 123 4567", "+443001234567", .nonGeographic),
        ("0800 123 4567", "+448001234567", .freephone),
        ("0909 876 5432", "+449098765432", .premium),
        ("07024 123456", "+447024123456", .personal),
        ("+1 415 555 2671", "+14155552671", .international),
        ("0033 1 23 45 67 89", "+33123456789", .international),
    ])
    func normalisesToE164(raw: String, e164: String, kind: PhoneNumber.Kind) throws {
        let number = try PhoneNumber.parse(raw).get()
        #expect(number.e164 == e164)
        #expect(number.kind == kind)
    }

    @Test(arguments: [
        ("", PhoneNumber.Problem.empty), ("07400 1001", .invalidLength), ("074001001234", .invalidLength),
        ("07400 100abc", .invalidCharacters), ("+999 123456789", .unknownCountryCode), ("0400 123 4567", .notAllocated),
        ("7400100123", .missingCountryCode), ("+1 415 555", .invalidLength), ("+44+7400100123", .invalidCharacters),
    ])
    func reportsWhy(raw: String, problem: PhoneNumber.Problem) {
        #expect(throws: problem) { try PhoneNumber.parse(raw).get() }
    }

    @Test func premiumPersonalAndPagerNumbersAreNotForOutreach() throws {
        #expect(try !PhoneNumber.parse("0909 876 5432").get().isOutreachAllowed)
        #expect(try PhoneNumber.parse("07400 100123").get().isOutreachAllowed)
    }
}

@Suite struct HexTests {
    @Test func encodesLowercaseAndHashes() {
        #expect(Hex.encode([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(Hex.sha256(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
