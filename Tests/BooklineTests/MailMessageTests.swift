import Bookline
import Foundation
import Testing

@Suite("Email composition")
struct MailMessageTests {
    @Test func multipartWithEncodedHeadersAndBase64Parts() throws {
        let mail = MailMessage(
            from: "bookings@smile.example", to: "zoe@example.com", subject: "Zoë's check-up\r\nBcc: evil@example.com",
            text: "Hi Zoë,\nsee you at 10:30.", html: "<p>Hi Zoë</p>", messageId: "01a2-msg",
            date: Date(timeIntervalSince1970: 1_796_644_800), unsubscribe: "mailto:bookings@smile.example?subject=unsubscribe"
        )
        let text = mail.rendered(boundary: "b1")
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.contains("From: bookings@smile.example"))
        #expect(lines.contains("Date: Mon, 07 Dec 2026 12:00:00 +0000"))
        #expect(lines.contains("Message-ID: <01a2-msg@smile.example>"))
        #expect(lines.contains("List-Unsubscribe: <mailto:bookings@smile.example?subject=unsubscribe>"))
        #expect(lines.contains("Content-Type: multipart/alternative; boundary=\"b1\""))
        let subject = try #require(lines.first { $0.hasPrefix("Subject: ") })
        #expect(subject.hasPrefix("Subject: =?UTF-8?B?"), "non-ASCII subjects are encoded words")
        #expect(!lines.contains { $0.hasPrefix("Bcc:") }, "a newline in the subject cannot add a header")
        let encoded = Data(subject.dropFirst("Subject: =?UTF-8?B?".count).dropLast(2).utf8)
        #expect(String(decoding: Data(base64Encoded: encoded) ?? Data(), as: UTF8.self) == "Zoë's check-up  Bcc: evil@example.com")
        #expect(text.contains("--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64"))
        #expect(text.contains("Content-Type: text/html; charset=utf-8"))
        #expect(text.hasSuffix("--b1--\r\n"))
        #expect(lines.allSatisfy { $0.utf8.count <= 998 }, "RFC 5322 line limit")
    }

    @Test func plainOnlyWithoutHTML() {
        let mail = MailMessage(from: "a@b.example", to: "c@d.example", subject: "Hi", text: "Hello", html: nil,
                               messageId: "m1", date: Date())
        let text = mail.rendered()
        #expect(!text.contains("multipart") && text.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(!text.contains("List-Unsubscribe"))
    }
}
