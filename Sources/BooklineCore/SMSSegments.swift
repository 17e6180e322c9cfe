/// How many SMS segments a message body costs, as carriers and Twilio count them.
///
/// A body of GSM 03.38 characters goes as GSM-7: 160 septets in one segment, else 153 per segment (7 go to the
/// concatenation header); characters of the extension table (`^{}\[~]|€` and form feed) take 2 septets. Any other
/// character sends the whole body as UCS-2: 70 UTF-16 code units in one segment, else 67 per segment; a character
/// outside the Basic Multilingual Plane (most emoji) takes 2 units. In a multipart message an extension character or
/// a surrogate pair is never split across segments, so a segment can end one unit short (as Twilio's segment
/// calculator counts). The body is counted by Unicode scalar, not Character: "\r\n" is two GSM characters.
public enum SMSSegments {
    public enum Encoding: String, Sendable {
        case gsm7 = "GSM-7"
        case ucs2 = "UCS-2"
    }

    /// Bookline refuses to send a body longer than this many segments.
    public static let maxSegments = 10

    /// `characters` is the length in the encoding's units, the figure the segment limits apply to: septets for
    /// GSM-7 (an extension character counts 2), UTF-16 code units for UCS-2. An empty body is 0 segments: nothing
    /// to send, so callers refuse it rather than pay for a blank message.
    public static func count(_ body: String) -> (encoding: Encoding, segments: Int, characters: Int) {
        var septets: [Int] = []
        septets.reserveCapacity(body.unicodeScalars.count)
        for scalar in body.unicodeScalars {
            if basic.contains(scalar) {
                septets.append(1)
            } else if extended.contains(scalar) {
                septets.append(2)
            } else {
                let units = body.unicodeScalars.map { UTF16.width($0) }
                return (.ucs2, segments(units, single: 70, multipart: 67), units.reduce(0, +))
            }
        }
        return (.gsm7, segments(septets, single: 160, multipart: 153), septets.reduce(0, +))
    }

    /// Segments for characters of the given widths, none split across a segment boundary.
    private static func segments(_ widths: [Int], single: Int, multipart: Int) -> Int {
        let total = widths.reduce(0, +)
        if total == 0 { return 0 }
        if total <= single { return 1 }
        var count = 1
        var used = 0
        for width in widths {
            if used + width > multipart {
                count += 1
                used = 0
            }
            used += width
        }
        return count
    }

    /// The GSM 03.38 default alphabet (less ESC, which only introduces the extension table).
    private static let basic = Set(
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars
    )

    /// The extension table: each is ESC and a second septet.
    private static let extended = Set("\u{0C}^{}\\[~]|€".unicodeScalars)
}
