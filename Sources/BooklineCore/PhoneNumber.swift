import Foundation

/// Phone numbers normalised to E.164 with UK rules by Ofcom number range and international
/// numbers checked against ITU country calling codes.
public struct PhoneNumber: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case mobile, landline, nonGeographic = "non_geographic", freephone, premium, personal, pager
        case corporate, international
    }

    public enum Problem: String, Sendable, Equatable, Error {
        case empty, invalidCharacters = "invalid_characters", invalidLength = "invalid_length"
        case unknownCountryCode = "unknown_country_code", notAllocated = "not_allocated"
        case missingCountryCode = "missing_country_code"
    }

    public let e164: String
    public let kind: Kind
    /// ISO 3166 alpha-2 for UK numbers (`GB`); the calling code (e.g. `+33`) otherwise.
    public let country: String

    /// Whether Bookline may call or text it: premium-rate, personal and pager numbers are refused.
    public var isOutreachAllowed: Bool { ![.premium, .personal, .pager].contains(kind) }

    /// Reads a number the way libphonenumber does with GB as the default region (see UKNumberRanges and
    /// PhoneFixtureTests), except that Bookline refuses what it would have to guess at: letters (vanity numbers,
    /// extensions, "tel:"), other punctuation or non-ASCII digits, and numbers with neither a country code nor a
    /// national prefix ("7400 123456": UK without its 0, or foreign without its +?).
    public static func parse(_ raw: String) -> Result<PhoneNumber, Problem> {
        let text = raw.trimmingWhitespace()
        guard !text.isEmpty else { return .failure(.empty) }
        guard text.allSatisfy(allowedCharacters.contains) else { return .failure(.invalidCharacters) }
        // The + (or ++) comes before the first digit, perhaps after a bracket: "(+44) 20 ...".
        let plusSigns = text.prefix { !$0.isNumber }.drop { $0 != "+" }.prefix { $0 == "+" }.count
        guard text.filter({ $0 == "+" }).count == plusSigns else { return .failure(.invalidCharacters) }
        let digits = text.filter(\.isNumber)
        guard !digits.isEmpty else { return .failure(.empty) }

        if plusSigns > 0 || digits.hasPrefix("00") {
            let idd = plusSigns > 0 ? 0 : 2
            // A UK number drops a trunk 0 written after +44, in brackets or not, like any national prefix.
            if digits.dropFirst(idd).hasPrefix("44") { return uk(droppingNationalPrefix(digits.dropFirst(idd + 2))) }
            // "+33 (0)1 ..." writes another country's trunk prefix in brackets: drop it.
            return international(String(text.replacingOccurrences(of: "(0)", with: "").filter(\.isNumber).dropFirst(idd)))
        }
        // 44 without + or 00 is the country code when the digits are too long for a UK national number, or when what
        // follows it (less a national prefix) is one; that national number may then have a national prefix of its own.
        if digits.hasPrefix("44") {
            let rest = droppingNationalPrefix(digits.dropFirst(2))
            if digits.count > 10 || hasNationalNumberShape(rest) { return uk(droppingNationalPrefix(rest)) }
        }
        if digits.hasPrefix("0") || digits.hasPrefix(textRelayPrefix) { return uk(droppingNationalPrefix(digits[...])) }
        return .failure(.missingCountryCode)
    }

    /// Built once: imports parse a number per row.
    static let allowedCharacters = Set("0123456789+ -.()\u{00A0}")

    /// BT's text relay prefix 18002 and the trunk 0, which libphonenumber drops from UK numbers like the trunk 0 itself.
    static let textRelayPrefix = "180020"

    /// A UK number less one national prefix: the trunk 0 or the text relay prefix.
    static func droppingNationalPrefix(_ digits: Substring) -> Substring {
        if digits.hasPrefix("0") { return digits.dropFirst() }
        return digits.hasPrefix(textRelayPrefix) ? digits.dropFirst(textRelayPrefix.count) : digits
    }

    /// libphonenumber's outline of a UK national number (region_GB.py's general_desc), used to tell whether a leading
    /// 44 is the country code: 10 digits not starting 0, 4 or 6; 9 starting 1 or 8; 7 starting 8.
    static func hasNationalNumberShape(_ nsn: Substring) -> Bool {
        switch (nsn.count, nsn.first) {
        case (10, let first?): "1235789".contains(first)
        case (9, let first?): "18".contains(first)
        case (7, "8"): true
        default: false
        }
    }

    static func international(_ digits: String) -> Result<PhoneNumber, Problem> {
        guard let code = CountryCodes.match(digits) else { return .failure(.unknownCountryCode) }
        if code == "44" { return uk(droppingNationalPrefix(digits.dropFirst(2))) }
        let national = String(digits.dropFirst(code.count))
        let bounds = CountryCodes.nationalLength[code] ?? 4...(15 - code.count)
        guard bounds.contains(national.count), code.count + national.count <= 15 else { return .failure(.invalidLength) }
        return .success(PhoneNumber(e164: "+\(code)\(national)", kind: .international, country: "+\(code)"))
    }

    /// A UK national significant number (without +44 or the trunk 0), by Ofcom range (UKNumberRanges).
    static func uk(_ nsn: Substring) -> Result<PhoneNumber, Problem> {
        UKNumberRanges.kind(of: String(nsn)).map { PhoneNumber(e164: "+44\(nsn)", kind: $0, country: "GB") }
    }
}

/// ITU-T E.164 assigned country calling codes (and national number lengths for common ones).
enum CountryCodes {
    static let all: Set<String> = {
        var codes: Set<String> = ["1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44",
                                  "45", "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
                                  "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95",
                                  "98", "211", "212", "213", "216", "218", "290", "291", "297", "298", "299", "420", "421",
                                  "423", "670", "800", "808", "850", "852", "853", "855", "856", "870", "878", "880", "881",
                                  "882", "883", "886", "888", "979", "998"]
        let ranges: [ClosedRange<Int>] = [220...258, 260...269, 350...359, 370...378, 380...383, 385...387, 389...389,
                                          500...509, 590...592, 594...599, 672...683, 685...692, 960...968, 970...977,
                                          992...996]
        for range in ranges { for code in range { codes.insert(String(code)) } }
        return codes
    }()

    /// The calling code `digits` starts with (codes are prefix-free, so at most one matches).
    static func match(_ digits: String) -> String? {
        for length in 1...3 where digits.count > length {
            let prefix = String(digits.prefix(length))
            if all.contains(prefix) { return prefix }
        }
        return nil
    }

    static let nationalLength: [String: ClosedRange<Int>] = [
        "1": 10...10, "7": 10...10, "20": 8...10, "27": 9...9, "30": 10...10, "31": 9...9, "32": 8...9,
        "33": 9...9, "34": 9...9, "36": 8...9, "39": 6...11, "40": 9...9, "41": 9...9, "43": 4...13,
        "45": 8...8, "46": 7...10, "47": 8...8, "48": 9...9, "49": 5...13, "52": 10...10, "55": 10...11,
        "61": 9...9, "64": 8...10, "65": 8...8, "81": 9...10, "82": 8...10, "86": 7...11, "91": 10...10,
        "351": 9...9, "352": 4...11, "353": 7...9, "354": 7...9, "358": 5...12, "420": 9...9, "971": 8...9,
    ]
}
