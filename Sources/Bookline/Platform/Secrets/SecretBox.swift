import Crypto
import Foundation
import Logging
import SQLKit
import Synchronization

/// Seals secrets at rest (provider tokens, JWT private keys, replayable responses) with
/// AES-256-GCM under `BOOKLINE_MASTER_KEY`. Output is base64 of nonce + ciphertext + tag.
///
/// Keyed hashes that must match forever (phone hashes of opt-outs, audit references) use
/// keys derived from the *derivation root*, a platform secret stored sealed under the master
/// key (`platform_secrets`), so the master key can be re-sealed (`bookline keys reseal`)
/// without changing any of them. The root starts as the first master key's bytes.
public struct SecretBox: Sendable {
    private let key: SymmetricKey
    private let root: DerivationRoot

    /// A box whose derived keys come from `derivationRoot` (by default the key itself: for tools
    /// and tests; the application uses `load(master:database:logger:)`).
    public init(keyData: Data, derivationRoot: Data? = nil) {
        self.key = SymmetricKey(data: keyData)
        self.root = DerivationRoot(root: SymmetricKey(data: derivationRoot ?? keyData), loader: nil)
    }

    private init(key: SymmetricKey, root: DerivationRoot) {
        self.key = key
        self.root = root
    }

    /// A separate key for one purpose (e.g. keyed hashes), so no two uses share key material.
    /// Throws (a 503) only when the derivation root could not be read yet (the database was
    /// unreachable at start); it is read again in the background.
    public func derivedKey(for purpose: String) throws -> SymmetricKey {
        try root.key(for: purpose)
    }

    public func seal(_ plaintext: Data) throws -> String {
        try AES.GCM.seal(plaintext, using: key).combined!.base64EncodedString()
    }

    public func seal(_ plaintext: String) throws -> String {
        try seal(Data(plaintext.utf8))
    }

    public func open(_ sealed: String) throws -> Data {
        guard let data = Data(base64Encoded: sealed) else { throw SecretBoxError.malformed }
        return try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: key)
    }

    /// The master key: from the environment, or in development a key generated once into the
    /// data folder (with a warning). Production without `BOOKLINE_MASTER_KEY` is refused.
    public static func resolveMasterKey(config: AppConfig, logger: Logger) throws -> Data {
        if let key = config.masterKey { return key }
        guard !config.isProduction else {
            throw ConfigError("BOOKLINE_MASTER_KEY", "is required when BOOKLINE_ENV=production (try: openssl rand -base64 32)", got: nil)
        }
        let file = config.dataFolder.appendingPathComponent("master.key")
        if let text = try? String(contentsOf: file, encoding: .utf8),
           let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
        {
            return data
        }
        let data = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        try FileManager.default.createDirectory(at: config.dataFolder, withIntermediateDirectories: true)
        guard FileManager.default.createFile(
            atPath: file.path, contents: Data(data.base64EncodedString().utf8), attributes: [.posixPermissions: 0o600]
        ) else {
            throw ConfigError("BOOKLINE_MASTER_KEY", "is not set and \(file.path) could not be written", got: nil)
        }
        logger.warning("BOOKLINE_MASTER_KEY is not set: generated a development key", metadata: ["file": "\(file.path)"])
        return data
    }
}

public enum SecretBoxError: Error {
    case malformed
}

extension SecretBox {
    static let derivationRootName = "derivation_root"

    /// What opening a secret sealed under another master key means (a restored backup or a
    /// copied database without its key, or a development key generated in another folder).
    static let wrongMasterKey = ConfigError(
        "BOOKLINE_MASTER_KEY", "cannot open the signing keys stored in this database: it is not the key the database was sealed with (see docs/RUNBOOK.md, \"The master key\")",
        got: nil
    )

    /// The application's box: sealing under `master`, deriving from the database's root (created
    /// from `master` on first use). Another master key than the database's is a `ConfigError`;
    /// with the database unreachable the root is read later, on first use.
    public static func load(master: Data, database: Database, logger: Logger) async throws -> SecretBox {
        let key = SymmetricKey(data: master)
        do {
            return SecretBox(key: key, root: DerivationRoot(root: try await loadRoot(master: master, database: database), loader: nil))
        } catch let error as ConfigError {
            throw error
        } catch {
            logger.warning("derivation root not loaded at start; will retry on first use", metadata: ["error": "\(TransientError.kind(of: error))"])
            return SecretBox(key: key, root: DerivationRoot(root: nil, loader: { try await loadRoot(master: master, database: database) }))
        }
    }

    /// Reads the derivation root, creating it as `master`'s bytes when there is none (the first
    /// start since it exists: every hash made so far was derived from the master key itself).
    static func loadRoot(master: Data, database: Database) async throws -> SymmetricKey {
        let box = SecretBox(keyData: master)
        func stored() async throws -> SymmetricKey? {
            guard let row = try await database.sql.raw(
                "SELECT value_sealed FROM platform_secrets WHERE name = \(bind: derivationRootName)"
            ).first() else { return nil }
            guard let root = try? box.open(try row.decode(column: "value_sealed", as: String.self)), root.count == 32 else {
                throw wrongMasterKey
            }
            return SymmetricKey(data: root)
        }
        if let root = try await stored() { return root }
        // Never record another key as the root: the master key must open the newest signing key.
        if let row = try await database.sql.raw("SELECT private_key_sealed FROM signing_keys ORDER BY created_at DESC LIMIT 1").first(),
           (try? box.open(try row.decode(column: "private_key_sealed", as: String.self))) == nil
        {
            throw wrongMasterKey
        }
        try await database.sql.raw("""
            INSERT INTO platform_secrets (name, value_sealed, created_at)
            VALUES (\(bind: derivationRootName), \(bind: try box.seal(master)), \(bind: Date()))
            ON CONFLICT (name) DO NOTHING
            """).run()
        // Another instance may have inserted first: read back what is stored.
        guard let root = try await stored() else { throw wrongMasterKey }
        return root
    }
}

/// The root of derived keys, with each purpose's key cached. When it could not be read at start
/// it is read in the background on first use, and derived keys are unavailable until then.
final class DerivationRoot: Sendable {
    private struct State {
        var root: SymmetricKey?
        var keys: [String: SymmetricKey] = [:]
        var loading = false
    }

    private let state: Mutex<State>
    private let loader: (@Sendable () async throws -> SymmetricKey)?

    init(root: SymmetricKey?, loader: (@Sendable () async throws -> SymmetricKey)?) {
        self.state = Mutex(State(root: root))
        self.loader = loader
    }

    func key(for purpose: String) throws -> SymmetricKey {
        let (key, startLoading): (SymmetricKey?, Bool) = state.withLock { state in
            guard let root = state.root else {
                let start = !state.loading
                state.loading = true
                return (nil, start)
            }
            if let key = state.keys[purpose] { return (key, false) }
            let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: root, info: Data(purpose.utf8), outputByteCount: 32)
            state.keys[purpose] = key
            return (key, false)
        }
        if let key { return key }
        if startLoading, let loader {
            Task {
                let root = try? await loader()
                self.state.withLock { state in
                    state.root = state.root ?? root
                    state.loading = false
                }
            }
        }
        throw DatabaseUnavailable(operation: "load the derivation root", attempts: 1)
    }
}
