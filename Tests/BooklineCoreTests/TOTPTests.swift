import BooklineCore
import Foundation
import Testing

@Suite("TOTP (RFC 6238)")
struct TOTPTests {
    /// RFC 6238 appendix B, SHA-1 key "12345678901234567890": the last 6 of its 8-digit codes.
    @Test(arguments: [(59.0, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"),
                      (1_234_567_890, "005924"), (2_000_000_000, "279037"), (20_000_000_000, "353130")])
    func matchesTheRFCVectors(time: Double, code: String) {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        #expect(totp.code(at: Date(timeIntervalSince1970: time)) == code)
    }

    @Test func acceptsOneStepEitherSideAndNoMore() {
        let totp = TOTP.generate()
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let step = TOTP.step(at: now)
        #expect(totp.matchingStep(totp.code(step: step), at: now) == step)
        #expect(totp.matchingStep(totp.code(step: step - 1), at: now) == step - 1)
        #expect(totp.matchingStep(totp.code(step: step + 1), at: now) == step + 1)
        #expect(totp.matchingStep(totp.code(step: step - 2), at: now) == nil || totp.code(step: step - 2) == totp.code(step: step))
        #expect(totp.matchingStep("12345", at: now) == nil)
        #expect(totp.matchingStep("abcdef", at: now) == nil)
        #expect(totp.matchingStep("1234567", at: now) == nil)
    }

    @Test func base32RoundTripsAndTheURINamesEverything() throws {
        for length in [0, 1, 5, 10, 20, 33] {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) % 256) }
            #expect(Base32.decode(Base32.encode(bytes)) == bytes)
        }
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("mzxw6ytboi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW1") == nil, "1 is not in the alphabet")
        let uri = TOTP(secret: Array("12345678901234567890".utf8)).provisioningURI(account: "o+wner@example.com", issuer: "Bookline")
        #expect(uri == "otpauth://totp/Bookline%3Ao%2Bwner%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Bookline&algorithm=SHA1&digits=6&period=30")
    }
}
