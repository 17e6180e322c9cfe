import Foundation

/// The JSON written next to every backup (`<backup file>.manifest.json`): what the file holds
/// and how to check it before trusting it.
public struct BackupManifest: Codable, Sendable, Equatable {
    public static let currentFormat = 1
    public static let suffix = ".manifest.json"

    public var format: Int = currentFormat
    public var createdAt: Date
    /// `sqlite` or `postgres`; a backup restores only into the same engine.
    public var engine: String
    /// The latest applied migration, e.g. `0015_followup_overrides.sql`.
    public var schemaVersion: String?
    /// PostgreSQL only: the schema that was dumped (objects restore into it).
    public var schema: String?
    /// The backup file's name, in the manifest's folder.
    public var file: String
    /// Size and SHA-256 of the file as stored (after encryption, when encrypted).
    public var sizeBytes: Int64
    public var sha256: String
    public var encrypted: Bool
    /// Which `BOOKLINE_BACKUP_KEY` encrypted it (a fingerprint, not the key).
    public var keyId: String?
    /// Rows per table at the moment of the backup.
    public var tables: [String: Int]
    public var booklineVersion: String

    enum CodingKeys: String, CodingKey {
        case format, engine, schema, file, sha256, encrypted, tables
        case createdAt = "created_at", schemaVersion = "schema_version", sizeBytes = "size_bytes"
        case keyId = "key_id", booklineVersion = "bookline_version"
    }

    /// The numeric prefix of `schemaVersion` (`0015_x.sql` -> 15).
    public var schemaNumber: Int? {
        schemaVersion.flatMap { Int($0.prefix { $0.isASCII && $0.isNumber }) }
    }

    public static func manifestURL(for backup: URL) -> URL {
        backup.deletingLastPathComponent().appendingPathComponent(backup.lastPathComponent + suffix)
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return try encoder.encode(self)
    }

    static func decode(_ data: Data) throws -> BackupManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO-8601 time"))
        }
        return try decoder.decode(BackupManifest.self, from: data)
    }

    /// Reads the manifest that belongs to `backup`.
    public static func read(for backup: URL) throws -> BackupManifest {
        let url = manifestURL(for: backup)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw BackupError.manifestMissing(url.path)
        }
        do {
            return try decode(data)
        } catch {
            throw BackupError.manifestUnreadable(url.path)
        }
    }
}

/// A manifest with the backup file it describes (the manifest's name minus `.manifest.json`).
public struct StoredBackup: Sendable {
    public let manifest: BackupManifest
    public let fileURL: URL
    public var manifestURL: URL { BackupManifest.manifestURL(for: fileURL) }
}

extension BackupManifest {
    /// Every readable Bookline manifest in `directory`, newest first. Unreadable ones are skipped.
    public static func list(in directory: URL) -> [StoredBackup] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix("bookline-") && $0.hasSuffix(suffix) }.compactMap { name in
            let url = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path), let manifest = try? decode(data),
                  // Retention deletes what a manifest names: only ever its own pair.
                  name == manifest.file + suffix
            else { return nil }
            return StoredBackup(manifest: manifest, fileURL: directory.appendingPathComponent(manifest.file))
        }
        .sorted { ($0.manifest.createdAt, $0.fileURL.lastPathComponent) > ($1.manifest.createdAt, $1.fileURL.lastPathComponent) }
    }
}

/// Everything that can go wrong with a backup, each one line a CLI user can act on.
public enum BackupError: Error, CustomStringConvertible, Equatable {
    case noDirectory
    case manifestMissing(String)
    case manifestUnreadable(String)
    case noBackups(String)
    case fileMissing(String)
    case sizeMismatch(file: String, expected: Int64, actual: Int64)
    case checksumMismatch(String)
    case engineMismatch(backup: String, target: String)
    case schemaTooNew(backup: String, known: String)
    case schemaMismatch(backup: String, target: String)
    case keyMissing
    case wrongKey(backupKeyId: String?)
    case notEncryptedFormat
    case truncatedCiphertext
    case targetNotEmpty([String])
    case toolMissing(String)
    case toolFailed(tool: String, status: Int32, message: String)
    case countsDiffer([String])

    public var description: String {
        switch self {
        case .noDirectory:
            "no backup folder: pass --to/--from or set BOOKLINE_BACKUP_DIR"
        case .manifestMissing(let path):
            "manifest \(path) not found; a backup is only restored with the manifest written next to it"
        case .manifestUnreadable(let path):
            "manifest \(path) is not a Bookline backup manifest"
        case .noBackups(let folder):
            "no backups found in \(folder)"
        case .fileMissing(let path):
            "backup file \(path) not found"
        case .sizeMismatch(let file, let expected, let actual):
            "backup \(file) is \(actual) bytes but its manifest says \(expected) (truncated or damaged); refusing to restore"
        case .checksumMismatch(let file):
            "backup \(file) does not match the SHA-256 in its manifest (damaged or altered); refusing to restore"
        case .engineMismatch(let backup, let target):
            "backup is from \(backup) but the configured database is \(target)"
        case .schemaTooNew(let backup, let known):
            "backup schema \(backup) is newer than this binary knows (latest migration \(known)); upgrade bookline first"
        case .schemaMismatch(let backup, let target):
            "backup holds PostgreSQL schema \(backup) but the target uses \(target)"
        case .keyMissing:
            "backup is encrypted: set BOOKLINE_BACKUP_KEY to the key it was made with"
        case .wrongKey(let keyId):
            "BOOKLINE_BACKUP_KEY does not decrypt this backup" + (keyId.map { " (it was encrypted with key id \($0))" } ?? "")
        case .notEncryptedFormat:
            "backup is marked encrypted but is not a Bookline encrypted backup"
        case .truncatedCiphertext:
            "encrypted backup ends early (truncated); refusing to restore"
        case .targetNotEmpty(let tables):
            "target database is not empty (rows in \(tables.prefix(5).joined(separator: ", "))\(tables.count > 5 ? ", ..." : "")); restore only into an empty database"
        case .toolMissing(let tool):
            "\(tool) not found on PATH or in /usr/lib/postgresql/*/bin (install postgresql-client)"
        case .toolFailed(let tool, let status, let message):
            "\(tool) failed (exit \(status)): \(message)"
        case .countsDiffer(let tables):
            "row counts differ from the manifest in \(tables.joined(separator: ", "))"
        }
    }
}
