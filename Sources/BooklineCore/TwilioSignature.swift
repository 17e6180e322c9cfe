import Crypto
import Foundation

/// Twilio's webhook signature, the `X-Twilio-Signature` header: base64 HMAC-SHA1, keyed with the auth token, of the
/// URL Twilio requested followed by each POST parameter's name and value, sorted by name.
///
/// Validation is twilio-python's `RequestValidator.validate`, detail for detail, and agrees with it on every case of
/// Tests/BooklineCoreTests/Fixtures/twilio_signatures.json (scripts/fixtures/make_twilio_fixture.py):
/// - a name sent several times contributes each distinct value, sorted, as name+value;
/// - names and values sort by code point, as Python sorts strings, and are compared exactly: no Unicode
///   normalisation, so "é" precomposed and "é" decomposed are different values;
/// - the URL is tried with its port removed and with the scheme's default port (https 443, otherwise 80) added,
///   because Twilio signs some requests with the port and some without;
/// - both URL forms are rebuilt the way Python's `urlparse(url).geturl()` rebuilds them (scheme lowercased, an
///   empty `?`, `#` or trailing `;` dropped), so a signature over the URL exactly as given may not match;
/// - a URL whose port Python cannot read (not digits, over 65535) or whose brackets do not pair is invalid, where
///   Python raises. Unlike Python, a bracketed host is not checked to be an IPv6 address: Bookline builds the URL
///   from its own configured base, so only Twilio's signature is in question.
public enum TwilioSignature {
    /// The signature Twilio sends for a form-encoded request to `url` (used as given, no port variants).
    public static func compute(url: String, parameters: [(String, String)], authToken: String) -> String {
        var values: [[UInt8]: Set<[UInt8]>] = [:]
        for (name, value) in parameters {
            values[Array(name.utf8), default: []].insert(Array(value.utf8))
        }
        // UTF-8 byte order is code point order, the order Python sorts strings in (Swift's String order is not).
        var payload = Array(url.utf8)
        for name in values.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            for value in values[name, default: []].sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                payload += name
                payload += value
            }
        }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: payload, using: SymmetricKey(data: Array(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// Validates a form-encoded (application/x-www-form-urlencoded) webhook: `parameters` are the decoded POST
    /// fields in any order, repeats included; `url` is the full URL Twilio requested, query string included.
    public static func isValid(signature: String, url: String, parameters: [(String, String)], authToken: String) -> Bool {
        guard let parsed = PythonURL(url) else { return false }
        return matches(signature, url: parsed, parameters: parameters, authToken: authToken)
    }

    /// Validates a webhook with a JSON body: Twilio then signs the URL alone, which carries `bodySHA256`, the hex
    /// SHA-256 of the raw body. Both the hash and the signature must match. Without `bodySHA256` the request is
    /// invalid unless the body is empty (then only the URL is signed), as in twilio-python, which fails on such a
    /// non-empty body.
    public static func isValid(signature: String, url: String, jsonBody: [UInt8], authToken: String) -> Bool {
        guard let parsed = PythonURL(url) else { return false }
        guard let claimed = parsed.firstQueryValue(named: "bodySHA256") else {
            return jsonBody.isEmpty && matches(signature, url: parsed, parameters: [], authToken: authToken)
        }
        let bodyMatches = constantTimeEqual(Hex.sha256(jsonBody), claimed)
        let signatureMatches = matches(signature, url: parsed, parameters: [], authToken: authToken)
        return bodyMatches && signatureMatches
    }

    private static func matches(
        _ signature: String, url: PythonURL, parameters: [(String, String)], authToken: String
    ) -> Bool {
        // Both forms are always computed, so the time taken does not tell which one matched.
        let forms = [url.withoutPort, url.withPort]
        let matched = forms.map { constantTimeEqual(compute(url: $0, parameters: parameters, authToken: authToken), signature) }
        return matched.contains(true)
    }

    /// Equality that takes the same time wherever the first difference is (the length is not secret).
    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let lhs = Array(lhs.utf8), rhs = Array(rhs.utf8)
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}

/// A URL split the way Python's `urllib.parse.urlparse` (3.11) splits it, and put back together the way `geturl()`
/// does, which is what twilio-python signs. Works on Unicode scalars, as Python works on code points: Swift's
/// Characters would merge a ":" or "?" with a following combining mark.
private struct PythonURL {
    typealias Scalars = [Unicode.Scalar]

    private var scheme: Scalars = []
    private var netloc: Scalars = []
    private var path: Scalars = []
    private var params: Scalars = []
    private var query: Scalars = []
    private var fragment: Scalars = []
    /// The port, nil when there is none or it is 0 (Python's validator treats both as no port).
    private var port: Int?

    private static let schemeCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.".unicodeScalars)
    private static let usesParams: Set<String> = [
        "", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtsps", "rtspu", "sip", "sips", "mms",
        "sftp", "tel",
    ]
    private static let usesNetloc: Set<String> = [
        "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp", "snews",
        "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git", "git+ssh", "ws", "wss",
    ]

    /// nil where Python raises ValueError.
    init?(_ url: String) {
        // urlsplit: strip leading C0 controls and spaces, remove tabs and line breaks.
        var rest = Scalars(url.unicodeScalars.drop { $0.value <= 0x20 }.filter { !["\t", "\r", "\n"].contains($0) })
        if let colon = rest.firstIndex(of: ":"), colon > 0, rest[0].isASCII, rest[0].properties.isAlphabetic,
           rest[..<colon].allSatisfy(Self.schemeCharacters.contains) {
            scheme = rest[..<colon].map { Unicode.Scalar(UInt8(ascii: $0).lowercasedASCII) }
            rest = Scalars(rest[(colon + 1)...])
        }
        if rest.starts(with: ["/", "/"]) {
            let end = rest[2...].firstIndex { "/?#".unicodeScalars.contains($0) } ?? rest.count
            netloc = Scalars(rest[2..<end])
            rest = Scalars(rest[end...])
            guard netloc.contains("[") == netloc.contains("]") else { return nil }
        }
        if let hash = rest.firstIndex(of: "#") {
            fragment = Scalars(rest[(hash + 1)...])
            rest = Scalars(rest[..<hash])
        }
        if let mark = rest.firstIndex(of: "?") {
            query = Scalars(rest[(mark + 1)...])
            rest = Scalars(rest[..<mark])
        }
        guard Self.survivesNFKC(netloc) else { return nil }
        path = rest
        // urlparse: `;params` of the last path segment.
        if Self.usesParams.contains(Self.string(scheme)), path.contains(";") {
            let segmentStart = path.lastIndex(of: "/") ?? 0
            if let semicolon = path[segmentStart...].firstIndex(of: ";") {
                params = Scalars(path[(semicolon + 1)...])
                path = Scalars(path[..<semicolon])
            }
        }
        guard let port = Self.port(of: netloc) else { return nil }
        self.port = port == 0 ? nil : port
    }

    /// Python's `remove_port`: everything of the netloc before its first ":" (user info and IPv6 hosts included).
    var withoutPort: String {
        guard port != nil else { return rebuilt(netloc: netloc) }
        return rebuilt(netloc: Scalars(netloc.prefix { $0 != ":" }))
    }

    /// Python's `add_port`: the netloc with ":443" (https) or ":80" (any other scheme) appended.
    var withPort: String {
        guard port == nil else { return rebuilt(netloc: netloc) }
        return rebuilt(netloc: netloc + Scalars((Self.string(scheme) == "https" ? ":443" : ":80").unicodeScalars))
    }

    /// The first non-empty value of `name` in the query, decoded as Python's `parse_qs` decodes it.
    func firstQueryValue(named name: String) -> String? {
        for field in query.split(separator: "&", omittingEmptySubsequences: true) {
            guard let equals = field.firstIndex(of: "="), equals + 1 < field.endIndex else { continue }
            if Self.unquotePlus(field[..<equals]).unicodeScalars.elementsEqual(name.unicodeScalars) {
                return Self.unquotePlus(field[(equals + 1)...])
            }
        }
        return nil
    }

    /// urlunparse.
    private func rebuilt(netloc: Scalars) -> String {
        var url = path
        if !params.isEmpty { url += [";"] + params }
        let schemeName = Self.string(scheme)
        if !netloc.isEmpty || (!scheme.isEmpty && Self.usesNetloc.contains(schemeName) && !url.starts(with: ["/", "/"])) {
            if let first = url.first, first != "/" { url.insert("/", at: 0) }
            url = ["/", "/"] + netloc + url
        }
        if !scheme.isEmpty { url = scheme + [":"] + url }
        if !query.isEmpty { url += ["?"] + query }
        if !fragment.isEmpty { url += ["#"] + fragment }
        return Self.string(url)
    }

    /// The port as Python's `ParseResult.port` reads it: 0 when absent, nil when Python raises.
    private static func port(of netloc: Scalars) -> Int? {
        let hostinfo = netloc.lastIndex(of: "@").map { netloc[($0 + 1)...] } ?? netloc[...]
        var text: ArraySlice<Unicode.Scalar>
        if let open = hostinfo.firstIndex(of: "[") {
            let afterHost = hostinfo[(open + 1)...].firstIndex(of: "]").map { hostinfo[($0 + 1)...] } ?? []
            text = afterHost.firstIndex(of: ":").map { afterHost[($0 + 1)...] } ?? []
        } else {
            text = hostinfo.firstIndex(of: ":").map { hostinfo[($0 + 1)...] } ?? []
        }
        var port = 0
        for scalar in text {
            guard ("0"..."9").contains(scalar) else { return nil }
            port = port * 10 + Int(scalar.value - 48)
            guard port <= 65535 else { return nil }
        }
        return port
    }

    /// Python's `_checknetloc`: a non-ASCII netloc must not gain URL delimiters under NFKC.
    private static func survivesNFKC(_ netloc: Scalars) -> Bool {
        guard !netloc.allSatisfy(\.isASCII) else { return true }
        let stripped = string(netloc.filter { !"@:#?".unicodeScalars.contains($0) })
        let folded = stripped.precomposedStringWithCompatibilityMapping
        if folded.unicodeScalars.elementsEqual(stripped.unicodeScalars) { return true }
        return !folded.unicodeScalars.contains { "/?#@:".unicodeScalars.contains($0) }
    }

    /// Python's `unquote(text.replace("+", " "))`: %XX escapes in runs of ASCII become bytes, decoded as UTF-8.
    private static func unquotePlus(_ text: ArraySlice<Unicode.Scalar>) -> String {
        var out = String.UnicodeScalarView()
        var bytes: [UInt8] = []
        func flush() {
            out.append(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars)
            bytes.removeAll()
        }
        var index = text.startIndex
        while index < text.endIndex {
            let scalar = text[index]
            index += 1
            guard scalar.isASCII else {
                flush()
                out.append(scalar)
                continue
            }
            if scalar == "%", index + 1 < text.endIndex, let high = hexValue(text[index]), let low = hexValue(text[index + 1]) {
                bytes.append(high << 4 | low)
                index += 2
            } else {
                bytes.append(scalar == "+" ? UInt8(ascii: " ") : UInt8(scalar.value))
            }
        }
        flush()
        return String(out)
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt8? {
        guard scalar.isASCII, let digit = UInt8(String(scalar), radix: 16) else { return nil }
        return digit
    }

    private static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}

private extension UInt8 {
    var lowercasedASCII: UInt8 { (65...90).contains(self) ? self + 32 : self }
}
