import Foundation

/// Random, unguessable identifiers for every row.
///
/// UUIDv7 (RFC 9562): 48 bits of Unix milliseconds then 74 random bits. The time prefix keeps
/// B-tree inserts local on both SQLite and PostgreSQL; the random tail keeps ids unguessable.
public enum Identifier {
    public static func make(now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(now: now, using: &generator)
    }

    public static func make(now: Date, using generator: inout some RandomNumberGenerator) -> String {
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - index)))
        }
        for index in 6..<16 {
            bytes[index] = UInt8.random(in: .min ... .max, using: &generator)
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x70  // version 7
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        let uuid = UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
        return uuid.uuidString.lowercased()
    }

    /// True for the canonical lowercase form `make` produces (any UUID version is accepted,
    /// so ids from other sources still parse).
    public static func isValid(_ text: some StringProtocol) -> Bool {
        text.count == 36 && UUID(uuidString: String(text)) != nil
    }
}
