import Bookline
import Testing

@Suite("argon2id password hashing")
struct PasswordHasherTests {
    let hasher = PasswordHasher(parameters: .testing)

    @Test func hashesVerifyAndAreSalted() async throws {
        let first = try await hasher.hash("correct-horse-battery-42")
        let second = try await hasher.hash("correct-horse-battery-42")
        #expect(first.hasPrefix("$argon2id$v=19$m=1024,t=1,p=1$"))
        #expect(first != second, "each hash has its own salt")
        #expect(await hasher.verify("correct-horse-battery-42", against: first))
        #expect(await !hasher.verify("correct-horse-battery-43", against: first))
        #expect(await !hasher.verify("correct-horse-battery-42", against: "not a hash"))
    }

    @Test func changedParametersAskForARehash() async throws {
        let old = try await hasher.hash("correct-horse-battery-42")
        #expect(!hasher.needsRehash(old))
        #expect(PasswordHasher(parameters: .production).needsRehash(old))
    }
}
