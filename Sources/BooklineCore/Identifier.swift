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
        // Two 64-bit draws, not ten 8-bit ones: each draw is a getrandom system call.
        let high = generator.next()
        let low = generator.next()
        // 48 bits of milliseconds, version 7 and 12 random bits; the RFC 9562 variant and 62 more.
        let first = (millis << 16) | 0x7000 | (high & 0x0FFF)
        let second = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        // 8-4-4-4-12 lowercase hex, written straight into the string's storage (an id is made
        // on every request, for its request id).
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var position = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                let word = nibble < 16 ? first : second
                buffer[position] = hexDigits[Int((word >> UInt64(60 - 4 * (nibble % 16))) & 0xF)]
                position += 1
            }
            return position
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The smallest id `make` can return for a time at or after `date`, so a creation-time range
    /// becomes an id range on the primary key (ids sort by their millisecond prefix).
    public static func lowerBound(for date: Date) -> String {
        let millis = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        let hex = Hex.encode((0..<6).map { UInt8(truncatingIfNeeded: millis >> (8 * (5 - $0))) })
        return "\(hex.prefix(8))-\(hex.dropFirst(8))-0000-0000-000000000000"
    }

    /// True for a UUID in 8-4-4-4-12 hex (any version and either case, so ids from other
    /// sources still parse). Checked byte by byte: `UUID(uuidString:)` goes through `sscanf`,
    /// and this runs on every request that names a tenant.
    @inlinable public static func isValid(_ text: some StringProtocol) -> Bool {
        var count = 0
        for byte in text.utf8 {
            switch count {
            case 8, 13, 18, 23:
                guard byte == UInt8(ascii: "-") else { return false }
            default:
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte) else { return false }
            }
            count += 1
            if count > 36 { return false }
        }
        return count == 36
    }
}
