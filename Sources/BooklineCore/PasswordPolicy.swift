/// Owner and staff passwords: at least 12 characters, at most 256, and not a well-known one.
public enum PasswordPolicy {
    public static let minimumLength = 12
    public static let maximumLength = 256

    public enum Problem: String, Sendable, Equatable, Error {
        case tooShort = "too_short", tooLong = "too_long", common
    }

    public static func check(_ password: String, context: [String] = []) -> Problem? {
        guard password.count >= minimumLength else { return .tooShort }
        guard password.count <= maximumLength else { return .tooLong }
        let lowered = password.lowercased()
        if commonPasswords.contains(lowered) { return .common }
        // One repeated character, or the business name / email with digits tacked on.
        if Set(lowered).count <= 2 { return .common }
        for word in context.map({ $0.lowercased() }) where word.count >= 4 {
            let stripped = lowered.filter { !$0.isNumber && !"!@#$%^&*._-".contains($0) }
            if stripped == word.filter({ $0.isLetter }) { return .common }
        }
        return nil
    }

    /// Common passwords of 12+ characters (from public breach top lists).
    static let commonPasswords: Set<String> = [
        "123456789012", "1234567890123", "12345678901234", "123456789abc", "1q2w3e4r5t6y", "1qaz2wsx3edc",
        "password1234", "password12345", "password123!", "passw0rd1234", "qwertyuiop12", "qwertyuiop123",
        "qwerty123456", "qwertyuiopas", "abcdefghijkl", "abc123456789", "iloveyou1234", "letmein12345",
        "welcome12345", "welcome123!!", "administrator", "admin1234567", "changeme1234", "monkey123456",
        "football1234", "baseball1234", "superman1234", "sunshine1234", "princess1234", "trustno1trust",
        "aaaaaaaaaaaa", "111111111111", "000000000000", "password1!password", "passwordpassword",
        "correcthorsebatterystaple", "mypassword123", "p@ssw0rd1234", "p@ssword1234", "qazwsxedcrfv",
        "zaq12wsxcde3", "asdfghjkl123", "1234qwerasdf", "q1w2e3r4t5y6", "bookline1234", "booklinebookline",
    ]
}
