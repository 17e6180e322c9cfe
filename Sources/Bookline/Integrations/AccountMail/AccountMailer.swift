import BooklineCore
import Foundation
import Logging
import Synchronization
import Yams

/// The platform's own mail to a person about their login (reset links, address verification,
/// password-changed notices), as opposed to a tenant's mail to its customers: it goes out
/// through the platform's SMTP server, never a tenant's, and is never held.
public struct AccountMail: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case passwordReset = "password_reset"
        case emailVerification = "email_verification"
        case passwordChanged = "password_changed"
        case invitation
    }

    public let kind: Kind
    public let to: String
    public let subject: String
    public let text: String
    public let html: String
}

/// Sends account mail. Drivers: SMTP (`SMTP_URL` + `EMAIL_FROM`), the simulation (logs that a
/// mail would go, never its link), and a recording one for tests.
public protocol AccountMailer: Sendable {
    func send(_ mail: AccountMail) async throws
    /// `smtp`, `simulated` or `recording`, for /health.
    var mode: String { get }
}

struct SMTPAccountMailer: AccountMailer {
    let server: SMTPServer
    let from: String
    let logger: Logger
    var mode: String { "smtp" }

    func send(_ mail: AccountMail) async throws {
        let message = OutgoingMessage(
            tenantId: "platform", id: Identifier.make(), channel: .email, template: nil, to: mail.to,
            subject: mail.subject, text: mail.text, html: mail.html, statusCallback: ""
        )
        _ = try await SMTPDriver(server: server, from: from, logger: logger).send(message)
    }
}

/// No SMTP server configured: nothing leaves the machine. The log names the kind and a masked
/// address, never the link (it is a credential).
struct SimulatedAccountMailer: AccountMailer {
    let logger: Logger
    var mode: String { "simulated" }

    func send(_ mail: AccountMail) async throws {
        logger.info("[EMAIL] account mail simulated (set SMTP_URL and EMAIL_FROM to send it)", metadata: [
            "kind": "\(mail.kind.rawValue)", "to": "\(MessageLog.mask(mail.to))",
        ])
    }
}

/// Keeps every mail, for tests: `next` awaits the next one instead of polling.
public final class RecordingAccountMailer: AccountMailer {
    private let sent = Mutex<[AccountMail]>([])
    private let stream: AsyncStream<AccountMail>
    private let continuation: AsyncStream<AccountMail>.Continuation
    private let failures = Mutex(0)
    public var mode: String { "recording" }

    public init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    /// The next `count` sends fail as a refused connection would.
    public func failNext(_ count: Int) { failures.withLock { $0 = count } }

    public func send(_ mail: AccountMail) async throws {
        let fail = failures.withLock { value -> Bool in
            guard value > 0 else { return false }
            value -= 1
            return true
        }
        if fail { throw DriverError.transient("connection refused") }
        sent.withLock { $0.append(mail) }
        continuation.yield(mail)
    }

    public var all: [AccountMail] { sent.withLock { $0 } }

    /// The next mail sent (in order), or nil after `timeout`.
    public func next(timeout: Duration = .seconds(5)) async -> AccountMail? {
        let stream = stream
        return await withTaskGroup(of: AccountMail?.self) { group in
            group.addTask {
                var iterator = stream.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

/// The account mail texts (`tenants/account-mail/KIND.yaml`: subject, text, html), rendered
/// with swift-mustache like the tenant templates.
public struct AccountMailTemplates: Sendable {
    struct File: Decodable {
        let subject: String
        let text: String
        let html: String
    }

    let files: [AccountMail.Kind: TemplateParts]

    public static func load(from folder: URL) throws -> AccountMailTemplates {
        var files: [AccountMail.Kind: TemplateParts] = [:]
        for kind in AccountMail.Kind.allCases {
            let url = folder.appendingPathComponent("\(kind.rawValue).yaml")
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw TemplateCatalogError(description: "\(url.path) is missing: the account mail texts ship with Bookline")
            }
            let file = try YAMLDecoder().decode(File.self, from: text)
            let parts = TemplateParts(emailSubject: file.subject, emailText: file.text, emailHtml: file.html)
            if let problem = TemplateRules.problems(in: parts, allowed: ["email", "link", "business", "how", "inviter", "role"]).first {
                throw TemplateCatalogError(description: "\(url.path): \(problem.field) \(problem.message)")
            }
            files[kind] = parts
        }
        return AccountMailTemplates(files: files)
    }

    public func render(_ kind: AccountMail.Kind, to: String, values: [String: String]) throws -> AccountMail {
        let parts = files[kind]!
        return AccountMail(
            kind: kind, to: to,
            subject: try TemplateRules.render(parts.emailSubject ?? "", field: "emailSubject", values: values),
            text: try TemplateRules.render(parts.emailText ?? "", field: "emailText", values: values),
            html: try TemplateRules.render(parts.emailHtml ?? "", field: "emailHtml", values: values)
        )
    }
}

public struct TemplateCatalogError: Error, CustomStringConvertible {
    public let description: String
}
