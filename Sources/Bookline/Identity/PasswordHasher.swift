import CArgon2
import Foundation
import NIOPosix

/// argon2id password hashing through libargon2, run on the blocking thread pool so a hash
/// (tens of milliseconds by design) never stalls an event loop.
public struct PasswordHasher: Sendable {
    public struct Parameters: Sendable, Equatable {
        /// Iterations.
        public var timeCost: UInt32
        /// Memory in KiB.
        public var memoryKiB: UInt32
        public var parallelism: UInt32

        public init(timeCost: UInt32, memoryKiB: UInt32, parallelism: UInt32) {
            self.timeCost = timeCost
            self.memoryKiB = memoryKiB
            self.parallelism = parallelism
        }

        /// OWASP's argon2id baseline (19 MiB, 2 iterations) with more memory: 64 MiB, 3 passes.
        public static let production = Parameters(timeCost: 3, memoryKiB: 64 * 1024, parallelism: 1)
        /// Cheap parameters for tests only.
        public static let testing = Parameters(timeCost: 1, memoryKiB: 1024, parallelism: 1)
    }

    public let parameters: Parameters

    public init(parameters: Parameters = .production) {
        self.parameters = parameters
    }

    public func hash(_ password: String) async throws -> String {
        let parameters = parameters
        return try await NIOThreadPool.singleton.runIfActive {
            try Self.hashNow(password, parameters: parameters)
        }
    }

    /// Checks a password in constant time with respect to the stored hash's content.
    public func verify(_ password: String, against encoded: String) async -> Bool {
        (try? await NIOThreadPool.singleton.runIfActive {
            password.withCString { pwd in
                argon2id_verify(encoded, pwd, strlen(pwd)) == ARGON2_OK.rawValue
            }
        }) ?? false
    }

    /// True when `encoded` was made with other parameters and should be re-hashed at login.
    public func needsRehash(_ encoded: String) -> Bool {
        let expected = "$argon2id$v=19$m=\(parameters.memoryKiB),t=\(parameters.timeCost),p=\(parameters.parallelism)$"
        return !encoded.hasPrefix(expected)
    }

    /// A valid hash of a random password, verified against for unknown accounts so a login for
    /// an email that does not exist takes as long as one that does.
    public func decoyHash() async throws -> String {
        try await hash(UUID().uuidString)
    }

    static func hashNow(_ password: String, parameters: Parameters) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = UInt8.random(in: .min ... .max, using: &generator) }
        let hashLength = 32
        let encodedLength = argon2_encodedlen(
            parameters.timeCost, parameters.memoryKiB, parameters.parallelism,
            UInt32(salt.count), UInt32(hashLength), Argon2_id
        )
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let result = password.withCString { pwd in
            argon2id_hash_encoded(
                parameters.timeCost, parameters.memoryKiB, parameters.parallelism,
                pwd, strlen(pwd), salt, salt.count, hashLength, &encoded, encodedLength
            )
        }
        guard result == ARGON2_OK.rawValue else {
            throw PasswordHashError(message: String(cString: argon2_error_message(result)))
        }
        let bytes = encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

struct PasswordHashError: Error, CustomStringConvertible {
    let message: String
    var description: String { "argon2 failed: \(message)" }
}
