import CCurl
import Foundation
import Logging
import NIOPosix

/// Where and how to submit mail, from an `smtp://` (STARTTLS when offered) or `smtps://`
/// (TLS from the start) URL. Credentials are taken out of the URL and given to libcurl apart.
public struct SMTPServer: Sendable {
    public let url: String
    public let username: String?
    public let password: String?
    public let implicitTLS: Bool

    public init?(url text: String) {
        guard var parts = URLComponents(string: text), let scheme = parts.scheme, ["smtp", "smtps"].contains(scheme),
              let host = parts.host, !host.isEmpty
        else { return nil }
        username = parts.user?.removingPercentEncoding ?? parts.user
        password = parts.password?.removingPercentEncoding ?? parts.password
        parts.user = nil
        parts.password = nil
        parts.query = nil
        implicitTLS = scheme == "smtps"
        url = parts.string ?? "\(scheme)://\(host)"
    }
}

/// Sends email through SMTP with libcurl (TLS, AUTH, one recipient), a multipart/alternative
/// message built by `MailMessage`. libcurl blocks, so each send runs on the blocking pool.
public struct SMTPDriver: MessageDriver {
    static let marketingTemplates: Set<String> = [
        "follow_up_no_answer", "follow_up_voicemail", "follow_up_callback", "follow_up_interested", "follow_up_not_interested",
    ]
    static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    let server: SMTPServer
    let from: String
    let logger: Logger

    public init(server: SMTPServer, from: String, logger: Logger) {
        self.server = server
        self.from = from
        self.logger = logger
    }

    public func send(_ message: OutgoingMessage) async throws -> DriverReceipt {
        let mail = MailMessage(
            from: from, to: message.to, subject: message.subject ?? "", text: message.text, html: message.html,
            messageId: message.id, date: Date(),
            unsubscribe: message.template.map(Self.marketingTemplates.contains) == true ? "mailto:\(from)?subject=unsubscribe" : nil
        )
        let bytes = Array(mail.rendered().utf8)
        let server = server
        let from = from
        try await NIOThreadPool.singleton.runIfActive {
            try Self.deliver(bytes, from: from, to: message.to, server: server)
        }
        return DriverReceipt(provider: "smtp", providerId: "<\(message.id)@\(mail.domain)>", from: from, status: .sent)
    }

    /// The message text libcurl reads while uploading.
    final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    static func deliver(_ bytes: [UInt8], from: String, to: String, server: SMTPServer) throws {
        guard initialised, let curl = curl_easy_init() else { throw DriverError.transient("libcurl could not start") }
        defer { curl_easy_cleanup(curl) }
        let upload = Upload(bytes)
        let context = Unmanaged.passRetained(upload)
        defer { context.release() }
        let recipients = curl_slist_append(nil, "<\(to)>")
        defer { curl_slist_free_all(recipients) }

        _ = bk_curl_setopt_string(curl, CURLOPT_URL, server.url)
        if let username = server.username { _ = bk_curl_setopt_string(curl, CURLOPT_USERNAME, username) }
        if let password = server.password { _ = bk_curl_setopt_string(curl, CURLOPT_PASSWORD, password) }
        _ = bk_curl_setopt_long(curl, CURLOPT_USE_SSL, Int(server.implicitTLS ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue))
        _ = bk_curl_setopt_string(curl, CURLOPT_MAIL_FROM, "<\(from)>")
        _ = bk_curl_setopt_pointer(curl, CURLOPT_MAIL_RCPT, UnsafeMutableRawPointer(recipients))
        _ = bk_curl_setopt_long(curl, CURLOPT_UPLOAD, 1)
        _ = bk_curl_setopt_read_function(curl) { buffer, size, count, context in
            guard let buffer, let context else { return 0 }
            let upload = Unmanaged<Upload>.fromOpaque(context).takeUnretainedValue()
            let length = min(size * count, upload.bytes.count - upload.offset)
            upload.bytes.withUnsafeBufferPointer { source in
                buffer.withMemoryRebound(to: UInt8.self, capacity: length) { target in
                    target.update(from: source.baseAddress! + upload.offset, count: length)
                }
            }
            upload.offset += length
            return length
        }
        _ = bk_curl_setopt_pointer(curl, CURLOPT_READDATA, context.toOpaque())
        _ = bk_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT, 10)
        _ = bk_curl_setopt_long(curl, CURLOPT_TIMEOUT, 60)
        _ = bk_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)

        let code = curl_easy_perform(curl)
        guard code == CURLE_OK else {
            let detail = String(cString: curl_easy_strerror(code))
            switch code {
            case CURLE_LOGIN_DENIED:
                throw DriverError.rejected(code: "smtp_auth", reason: "authentication_failed: the SMTP server refused the login", optedOut: false)
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
                throw DriverError.rejected(code: "smtp_config", reason: "invalid_smtp_url: \(detail)", optedOut: false)
            default:
                throw DriverError.transient("smtp: \(detail)")
            }
        }
    }
}
