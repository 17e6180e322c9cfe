import Crypto
import Foundation

/// Streams a file through AES-GCM in 1 MiB chunks so memory stays flat for any size.
///
/// Layout: the header `BKLBAK01` + chunk size (UInt32 BE), then per chunk a final flag (1 byte),
/// the ciphertext length (UInt32 BE), nonce (12), ciphertext and tag (16). Each chunk
/// authenticates the header, its index and its final flag, so reordered, dropped or cut-off
/// chunks fail to open; a file without a final chunk is truncated.
enum BackupCipher {
    static let magic = Data("BKLBAK01".utf8)
    static let chunkSize = 1 << 20

    /// A fingerprint naming the key in manifests, so a restore can say which key it needs.
    static func keyId(_ key: Data) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("bookline-backup-key-id".utf8))
        hasher.update(data: key)
        return hasher.finalize().prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    static func encrypt(_ source: URL, to destination: URL, key: Data) throws {
        let symmetric = SymmetricKey(data: key)
        let input = try FileHandle(forReadingFrom: source)
        defer { try? input.close() }
        let output = try createFile(destination)
        defer { try? output.close() }

        var header = magic
        header.append(bigEndian: UInt32(chunkSize))
        try output.write(contentsOf: header)
        var index: UInt64 = 0
        var current = try input.readFully(chunkSize)
        while true {
            // Read ahead one chunk to know whether this one is the last.
            let next = current.count < chunkSize ? Data() : try input.readFully(chunkSize)
            let final = next.isEmpty
            let box = try AES.GCM.seal(current, using: symmetric, authenticating: aad(header, index, final))
            var frame = Data([final ? 1 : 0])
            frame.append(bigEndian: UInt32(box.ciphertext.count))
            frame.append(contentsOf: box.nonce)
            frame.append(box.ciphertext)
            frame.append(box.tag)
            try output.write(contentsOf: frame)
            if final { break }
            current = next
            index += 1
        }
    }

    static func decrypt(_ source: URL, to destination: URL, key: Data, keyId: String?) throws {
        let symmetric = SymmetricKey(data: key)
        let input = try FileHandle(forReadingFrom: source)
        defer { try? input.close() }
        let output = try createFile(destination)
        defer { try? output.close() }

        let header = try input.readFully(magic.count + 4)
        guard header.count == magic.count + 4, header.prefix(magic.count) == magic else { throw BackupError.notEncryptedFormat }
        let limit = Int(header.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        var index: UInt64 = 0
        while true {
            let prefix = try input.readFully(5)
            guard prefix.count == 5 else { throw BackupError.truncatedCiphertext }
            let final = prefix[prefix.startIndex] == 1
            let length = Int(prefix.dropFirst().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length <= limit else { throw BackupError.notEncryptedFormat }
            let body = try input.readFully(12 + length + 16)
            guard body.count == 12 + length + 16 else { throw BackupError.truncatedCiphertext }
            let plain: Data
            do {
                let box = try AES.GCM.SealedBox(combined: body)
                plain = try AES.GCM.open(box, using: symmetric, authenticating: aad(header, index, final))
            } catch {
                // The checksum already matched the manifest, so the bytes are as written: the key is wrong.
                throw BackupError.wrongKey(backupKeyId: keyId)
            }
            try output.write(contentsOf: plain)
            if final { break }
            index += 1
        }
    }

    private static func aad(_ header: Data, _ index: UInt64, _ final: Bool) -> Data {
        var data = header
        data.append(bigEndian: index)
        data.append(final ? 1 : 0)
        return data
    }

    private static func createFile(_ url: URL) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path])
        }
        return try FileHandle(forWritingTo: url)
    }
}

enum FileDigest {
    /// Hex SHA-256 and size of a file, read in chunks.
    static func sha256(of url: URL) throws -> (hex: String, size: Int64) {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try handle.read(upToCount: BackupCipher.chunkSize), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), size)
    }
}

fileprivate extension Data {
    mutating func append<T: FixedWidthInteger>(bigEndian value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

fileprivate extension FileHandle {
    /// `count` bytes, fewer only at the end of the file (a single read may return less).
    func readFully(_ count: Int) throws -> Data {
        var data = Data()
        while data.count < count, let more = try read(upToCount: count - data.count), !more.isEmpty {
            data.append(more)
        }
        return data
    }
}
