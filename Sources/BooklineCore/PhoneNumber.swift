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

    public static func parse(_ raw: String) -> Result<PhoneNumber, Problem> {
        var text = raw.trimmingWhitespace()
        guard !text.isEmpty else { return .failure(.empty) }
        // "+44 (0)20 ..." writes the UK trunk prefix in brackets: drop it.
        text = text.replacingOccurrences(of: "(0)", with: "")
        let allowed = Set("0123456789+ -.()\u{00A0}")
        guard text.allSatisfy(allowed.contains) else { return .failure(.invalidCharacters) }
        let plus = text.hasPrefix("+")
        guard !text.dropFirst().contains("+") else { return .failure(.invalidCharacters) }
        let digits = String(text.filter(\.isNumber))
        guard !digits.isEmpty else { return .failure(.empty) }

        if plus { return international(digits) }
        if digits.hasPrefix("00") { return international(String(digits.dropFirst(2))) }
        if digits.hasPrefix("44"), digits.count == 12 { return uk(String(digits.dropFirst(2))) }
        if digits.hasPrefix("0") { return uk(String(digits.dropFirst())) }
        return .failure(.missingCountryCode)
    }

    static func international(_ digits: String) -> Result<PhoneNumber, Problem> {
        guard let code = CountryCodes.match(digits) else { return .failure(.unknownCountryCode) }
        var national = String(digits.dropFirst(code.count))
        if code == "44" {
            if national.hasPrefix("0") { national.removeFirst() }
            return uk(national)
        }
        let bounds = CountryCodes.nationalLength[code] ?? 4...(15 - code.count)
        guard bounds.contains(national.count), code.count + national.count <= 15 else { return .failure(.invalidLength) }
        return .success(PhoneNumber(e164: "+\(code)\(national)", kind: .international, country: "+\(code)"))
    }

    /// UK national significant number (without the leading 0), by Ofcom range.
    static func uk(_ nsn: String) -> Result<PhoneNumber, Problem> {
        func number(_ kind: Kind, lengths: ClosedRange<Int>) -> Result<PhoneNumber, Problem> {
            guard lengths.contains(nsn.count) else { return .failure(.invalidLength) }
            return .success(PhoneNumber(e164: "+44\(nsn)", kind: kind, country: "GB"))
        }
        let first = nsn.first
        let two = String(nsn.prefix(2))
        switch first {
        case "7":
            switch two {
            case "70": return number(.personal, lengths: 10...10)
            case "76": return nsn.hasPrefix("7624") ? number(.mobile, lengths: 10...10) : number(.pager, lengths: 10...10)
            default: return number(.mobile, lengths: 10...10)
            }
        case "1": return number(.landline, lengths: 9...10)
        case "2": return number(.landline, lengths: 10...10)
        case "3":
            return ["30", "33", "34", "37"].contains(two) ? number(.nonGeographic, lengths: 10...10) : .failure(.notAllocated)
        case "8":
            switch String(nsn.prefix(3)) {
            case "800": return number(.freephone, lengths: 9...10)
            case "808": return number(.freephone, lengths: 10...10)
            default:
                return ["84", "87"].contains(two) ? number(.nonGeographic, lengths: 10...10) : .failure(.notAllocated)
            }
        case "9": return two == "90" || two == "91" || two == "98" ? number(.premium, lengths: 10...10) : .failure(.notAllocated)
        case "5": return ["55", "56"].contains(two) ? number(.corporate, lengths: 10...10) : .failure(.notAllocated)
        case nil: return .failure(.invalidLength)
        default: return .failure(.notAllocated)
        }
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
