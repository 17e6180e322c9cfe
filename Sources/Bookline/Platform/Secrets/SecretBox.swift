import Crypto
import Foundation
import Logging

/// Seals secrets at rest (provider tokens, JWT private keys, replayable responses) with
/// AES-256-GCM under `BOOKLINE_MASTER_KEY`. Output is base64 of nonce + ciphertext + tag.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    public init(keyData: Data) {
        self.key = SymmetricKey(data: keyData)
    }

    /// A separate key for one purpose (e.g. keyed hashes), so no two uses share key material.
    public func derivedKey(for purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32)
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
