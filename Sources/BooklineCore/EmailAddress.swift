/// Email addresses as people type them: trimmed, domain lowercased, checked for a sensible
/// shape (not the full RFC 5322 grammar, which accepts addresses no mail system delivers).
public struct EmailAddress: Sendable, Equatable, CustomStringConvertible {
    public let normalized: String
    public var description: String { normalized }

    public enum Problem: String, Sendable, Equatable, Error {
        case empty, tooLong = "too_long", missingAt = "missing_at", invalidLocalPart = "invalid_local_part"
        case invalidDomain = "invalid_domain"
    }

    private static let localAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~.-")
    private static let labelAllowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")

    public static func parse(_ raw: String) -> Result<EmailAddress, Problem> {
        let trimmed = raw.trimmingWhitespace()
        guard !trimmed.isEmpty else { return .failure(.empty) }
        guard trimmed.utf8.count <= 254 else { return .failure(.tooLong) }
        guard let at = trimmed.lastIndex(of: "@") else { return .failure(.missingAt) }
        let local = trimmed[..<at]
        let domain = trimmed[trimmed.index(after: at)...].lowercased()

        let localAllowed = Self.localAllowed
        guard !local.isEmpty, local.utf8.count <= 64, local.allSatisfy(localAllowed.contains),
              !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..")
        else { return .failure(.invalidLocalPart) }

        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let labelAllowed = Self.labelAllowed
        guard labels.count >= 2,
              labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.allSatisfy(labelAllowed.contains) && !$0.hasPrefix("-") && !$0.hasSuffix("-") }),
              let tld = labels.last, tld.count >= 2, tld.contains(where: \.isLetter)
        else { return .failure(.invalidDomain) }
        return .success(EmailAddress(normalized: "\(local)@\(domain)"))
    }

    /// The key for uniqueness: the whole address lowercased (mailboxes are case-insensitive in practice).
    public var lookupKey: String { normalized.lowercased() }
}
