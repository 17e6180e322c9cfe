import Foundation

/// An RFC 5322 email with a multipart/alternative body (plain text and, when given, HTML),
/// as SMTP carries it. Non-ASCII header text is RFC 2047 encoded; bodies are base64 in
/// 76-character lines, so any UTF-8 text survives every relay.
public struct MailMessage: Sendable {
    public let from: String
    public let to: String
    public let subject: String
    public let text: String
    public let html: String?
    public let messageId: String
    public let date: Date
    /// Adds List-Unsubscribe (marketing and follow-up mail must offer it).
    public let unsubscribe: String?

    public init(from: String, to: String, subject: String, text: String, html: String?, messageId: String, date: Date,
                unsubscribe: String? = nil) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageId = messageId
        self.date = date
        self.unsubscribe = unsubscribe
    }

    /// The domain of the sender, for Message-ID.
    var domain: String { from.split(separator: "@").last.map(String.init) ?? "bookline.invalid" }

    public func rendered(boundary: String = "bookline-" + UUID().uuidString) -> String {
        var headers = [
            "From: \(from)",
            "To: \(to)",
            "Subject: \(Self.encodeHeader(subject))",
            "Date: \(Self.rfc5322(date))",
            "Message-ID: <\(messageId)@\(domain)>",
            "MIME-Version: 1.0",
        ]
        if let unsubscribe { headers.append("List-Unsubscribe: <\(unsubscribe)>") }
        var lines = headers
        if let html {
            lines.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("--\(boundary)")
            lines.append(contentsOf: Self.part(type: "text/plain", body: text))
            lines.append("--\(boundary)")
            lines.append(contentsOf: Self.part(type: "text/html", body: html))
            lines.append("--\(boundary)--")
        } else {
            lines.append(contentsOf: Self.part(type: "text/plain", body: text))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func part(type: String, body: String) -> [String] {
        let encoded = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return ["Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", "", encoded]
    }

    /// ASCII as is; anything else as an RFC 2047 encoded word.
    static func encodeHeader(_ text: String) -> String {
        let clean = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard clean.unicodeScalars.contains(where: { !$0.isASCII }) else { return clean }
        return "=?UTF-8?B?\(Data(clean.utf8).base64EncodedString())?="
    }

    /// `Tue, 25 Nov 2026 17:40:00 +0000`.
    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
