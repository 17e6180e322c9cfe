import Foundation

/// Backup configuration from the environment: where backups go, how many are kept, the
/// optional encryption key, and how old the newest may be before `/health` is degraded.
public struct BackupSettings: Sendable {
    /// `BOOKLINE_BACKUP_DIR`: the default for `backup --to` and `backup verify --from`, and
    /// the folder `/health` watches. Nil means backups are not configured.
    public var directory: String?
    /// `BOOKLINE_BACKUP_KEEP`: the most recent backups kept; older ones are deleted.
    public var keep = 7
    /// `BOOKLINE_BACKUP_KEY`: 32 bytes; when set, backups are encrypted (AES-GCM).
    public var key: Data?
    /// A backup older than this makes `/health` degraded.
    public var maxAge: TimeInterval = 48 * 3600

    public static let keepRange = 1...1000

    public init() {}

    /// Reads the `BOOKLINE_BACKUP_*` variables; a bad value is one line naming the variable.
    public static func load(from env: [String: String]) throws(ConfigError) -> BackupSettings {
        var settings = BackupSettings()
        func value(_ name: String) -> String? {
            guard let raw = env[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        settings.directory = value("BOOKLINE_BACKUP_DIR")
        if let text = value("BOOKLINE_BACKUP_KEEP") {
            guard let number = Int(text), keepRange.contains(number) else {
                throw ConfigError("BOOKLINE_BACKUP_KEEP", "must be a whole number from \(keepRange.lowerBound) to \(keepRange.upperBound)", got: text)
            }
            settings.keep = number
        }
        if let text = value("BOOKLINE_BACKUP_KEY") {
            // Never echo it: it is the key.
            guard let data = Data(base64Encoded: text), data.count == 32 else {
                throw ConfigError("BOOKLINE_BACKUP_KEY", "must be 32 bytes in base64 (try: openssl rand -base64 32)", got: nil)
            }
            settings.key = data
        }
        return settings
    }
}
