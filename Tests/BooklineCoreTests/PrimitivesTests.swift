import BooklineCore
import Foundation
import Testing

@Suite struct IdentifierTests {
    @Test func isAVersion7UUIDWithTheTimeFirst() throws {
        let now = Date(timeIntervalSince1970: 1_764_000_000.123)
        let id = Identifier.make(now: now)
        #expect(Identifier.isValid(id))
        #expect(id == id.lowercased())
        let hex = id.replacingOccurrences(of: "-", with: "")
        #expect(UInt64(hex.prefix(12), radix: 16) == 1_764_000_000_123)
        #expect(Array(hex)[12] == "7")
        #expect("89ab".contains(Array(hex)[16]))
    }

    @Test func idsAreUniqueAndOrderedByTime() {
        let earlier = Identifier.make(now: Date(timeIntervalSince1970: 1000))
        let later = Identifier.make(now: Date(timeIntervalSince1970: 1001))
        #expect(earlier < later)
        let many = Set((0..<10_000).map { _ in Identifier.make() })
        #expect(many.count == 10_000)
    }

    @Test(arguments: ["", "123", "not-a-uuid-at-all-but-36-characters!", "' OR 1=1 --"])
    func rejectsNonIds(text: String) {
        #expect(!Identifier.isValid(text))
    }

    /// The byte-level check answers as Foundation's parser does, on near misses too.
    @Test(arguments: [
        "0195d2a4-7c1e-7b3a-9f00-1234567890ab", "0195D2A4-7C1E-7B3A-9F00-1234567890AB",
        "0195d2a4-7c1e-7b3a-9f00-1234567890a", "0195d2a4-7c1e-7b3a-9f00-1234567890abc",
        "0195d2a47c1e-7b3a-9f00-1234567890ab-", "0195d2a4-7c1e-7b3a-9f00-1234567890ag",
        "0195d2a4-7c1e-7b3a-9f00-1234567890a\u{e9}", "{195d2a4-7c1e-7b3a-9f00-1234567890ab}",
        "0195d2a4 7c1e 7b3a 9f00 1234567890ab", "0195d2a4-7c1e-7b3a-9f00-12345678\u{663}0ab",
    ])
    func agreesWithFoundation(text: String) {
        #expect(Identifier.isValid(text) == (text.count == 36 && UUID(uuidString: text) != nil))
    }
}

@Suite struct BackoffTests {
    @Test func ceilingDoublesUpToTheCap() {
        let backoff = Backoff(baseSeconds: 0.1, capSeconds: 1, maxAttempts: 6)
        #expect((0..<6).map { backoff.ceiling(forAttempt: $0) } == [0.1, 0.2, 0.4, 0.8, 1, 1])
    }

    @Test func delaysStayWithinTheCeilingAndVary() {
        let backoff = Backoff(baseSeconds: 0.1, capSeconds: 5)
        var generator = SystemRandomNumberGenerator()
        let delays = (0..<200).map { _ in backoff.delay(forAttempt: 3, using: &generator) }
        #expect(delays.allSatisfy { $0 >= 0 && $0 <= 0.8 })
        #expect(Set(delays).count > 100, "full jitter spreads retries")
    }

    @Test func hugeAttemptNumbersDoNotOverflow() {
        #expect(Backoff(baseSeconds: 1, capSeconds: 30).ceiling(forAttempt: 10_000) == 30)
    }
}

@Suite struct SlugTests {
    @Test(arguments: [
        ("Smile & Co. Dental", "smile-co-dental"),
        ("  Café Crème  ", "cafe-creme"),
        ("O'Brien's Plumbing Ltd", "o-brien-s-plumbing-ltd"),
        ("歯科", "business"),
        ("", "business"),
    ])
    func makesURLSafeSlugs(name: String, slug: String) {
        #expect(Slug.make(from: name) == slug)
    }

    @Test func slugsAreBounded() {
        #expect(Slug.make(from: String(repeating: "ab ", count: 100)).count <= Slug.maxLength)
    }

    @Test func firstFreeAddsASuffix() {
        #expect(Slug.firstFree(base: "a", taken: []) == "a")
        #expect(Slug.firstFree(base: "a", taken: ["a", "a-2"]) == "a-3")
    }
}

@Suite struct DatabaseHealthRuleTests {
    @Test func criticalAfterThreeFailuresInARow() {
        let rule = DatabaseHealthRule()
        #expect([0, 1, 2, 3, 10].map(rule.status(consecutiveFailures:)) == [.ok, .degraded, .degraded, .critical, .critical])
        #expect(HealthStatus.ok < .degraded && HealthStatus.degraded < .critical)
    }
}

@Suite struct SlidingWindowTests {
    @Test func allowsExactlyTheLimitInAnyWindow() {
        let window = SlidingWindow(limit: 3, window: 60)
        var hits: [Double] = []
        var decisions: [SlidingWindow.Decision] = []
        for time in [0.0, 10, 20, 30, 59.9, 60, 60.1] {
            let (decision, kept) = window.decide(hits: hits, now: time)
            hits = kept
            decisions.append(decision)
        }
        #expect(decisions.map(\.allowed) == [true, true, true, false, false, true, false])
        #expect(decisions[0].remaining == 2 && decisions[0].resetSeconds == 60)
        #expect(decisions[3].resetSeconds == 30)
        #expect(decisions[6].resetSeconds == 10)
    }
}

@Suite struct SlidingWindowLogTests {
    /// The incremental log and the reference `decide` agree on any sequence of requests.
    @Test func agreesWithTheReferenceWindow() {
        var generator = SystemRandomNumberGenerator()
        for limit in [1, 3, 10] {
            let window = SlidingWindow(limit: limit, window: 5)
            var log = SlidingWindowLog()
            var hits: [Double] = []
            var now = 0.0
            for _ in 0..<2000 {
                now += Double.random(in: 0...1.5, using: &generator)
                let (expected, kept) = window.decide(hits: hits, now: now)
                hits = kept
                #expect(log.hit(now: now, limit: limit, window: 5) == expected)
            }
        }
    }

    @Test func aLoweredLimitRefusesUntilEnoughLeave() {
        var log = SlidingWindowLog()
        for time in 0..<5 { _ = log.hit(now: Double(time), limit: 10, window: 60) }
        let refused = log.hit(now: 5, limit: 3, window: 60)
        #expect(!refused.allowed)
        #expect(refused.resetSeconds == 57, "the third-newest request (t=2) leaves at 62")
    }
}
