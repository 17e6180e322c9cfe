import BooklineCore
import Foundation
import Hummingbird
import SQLKit

/// `POST /api/clients/onboard`: a business signs itself up and gets its tenant, owner login and
/// first API key (shown once) in one transaction.
struct OnboardingRoutes {
    static let idempotencyScope = "public:onboard"
    let services: AppServices

    /// Only what a business may choose about itself. Its tier, status, limits and standing are
    /// the platform's: naming one is a 422 (see `platformOwnedFields`).
    struct OnboardRequest: Decodable, PlatformOwnedFields {
        var businessName: String?
        var email: String?
        var phone: String?
        var industry: String?
        var services: [String]?
        var password: String?
        var timezone: String?

        static let platformOwnedFields: [String: String] = {
            let plan = "is set by the platform: every sign-up starts on the default plan, and only an admin or a plan change moves it"
            let set = "is set by the platform, not by the sign-up"
            return ["tier": plan, "plan": plan, "rateLimitPerMinute": plan, "limits": plan, "status": set, "role": set,
                    "tenantId": set, "id": set, "slug": set, "emailVerified": set, "mfaRequired": set, "createdAt": set]
        }()
    }

    struct Valid: Sendable {
        let businessName: String
        let email: EmailAddress
        let phone: PhoneNumber
        let industry: IndustryTemplate
        let serviceNames: [String]
        let password: String
        let timezone: String
    }

    struct OnboardResponse: Codable {
        let tenantId: String
        let slug: String
        let apiKey: String
        let apiKeyId: String
        let ownerEmail: String
        let dashboardUrl: String
        let docsUrl: String
        let nextSteps: [String]
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("api/clients/onboard") { request, context in
            try await services.rateLimiter.limited(
                bucket: "ip:onboard:\(context.remoteIP ?? "unknown")", policy: services.onboardPolicy
            ) {
                try await onboard(request, context: context)
            }
        }
    }

    @Sendable func onboard(_ request: Request, context: AppRequestContext) async throws -> Response {
        let now = services.now()
        let idempotencyKey = try IdempotencyStore.key(in: request)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let requestHash = IdempotencyStore.requestHash(body)
        if let key = idempotencyKey, let stored = try await services.idempotency.replay(
            scope: Self.idempotencyScope, key: key, requestHash: requestHash, now: now
        ) {
            return IdempotencyStore.response(stored, replayed: true)
        }

        var parsedRequest = request
        parsedRequest.body = .init(buffer: body)
        let input = try await parsedRequest.decodeJSON(as: OnboardRequest.self, context: context)
        let valid = try validate(input)
        if try await services.users.emailExists(valid.email) { throw Self.duplicateEmail }
        let passwordHash = try await services.hasher.hash(valid.password)
        let actor = context.auditActor(request, principal: nil)

        do {
            let stored = try await services.database.transaction { db in
                try await create(valid, passwordHash: passwordHash, actor: actor, idempotencyKey: idempotencyKey,
                                 requestHash: requestHash, now: now, on: db)
            }
            // After the commit: the sign-up stands even if the link cannot be issued now (the
            // dashboard's banner sends another).
            if let owner = try? await services.users.find(email: valid.email) {
                do {
                    try await services.accounts.sendVerification(userId: owner.id, businessName: valid.businessName, actor: actor)
                } catch {
                    services.logger.warning("verification link not issued at sign-up", metadata: ["error": "\(TransientError.kind(of: error))"])
                }
            }
            return IdempotencyStore.response(stored, replayed: false)
        } catch {
            // Lost a race with an identical sign-up: answer as the winner did, or as a duplicate.
            if let key = idempotencyKey, let stored = try? await services.idempotency.replay(
                scope: Self.idempotencyScope, key: key, requestHash: requestHash, now: now
            ) {
                return IdempotencyStore.response(stored, replayed: true)
            }
            if try await services.users.emailExists(valid.email) { throw Self.duplicateEmail }
            throw error
        }
    }

    static let duplicateEmail = Problem(
        status: .conflict, slug: "email-taken", title: "Email already registered",
        detail: "An account with this email already exists. Sign in instead."
    )

    private func create(_ valid: Valid, passwordHash: String, actor: AuditActor, idempotencyKey: String?,
                        requestHash: String, now: Date, on db: any SQLDatabase) async throws -> IdempotencyStore.Stored {
        let settings = try Self.settingsJSON(valid)
        let tenant = try await services.tenants.create(
            .init(businessName: valid.businessName, industry: valid.industry.name, tier: services.tiers.defaultName,
                  timezone: valid.timezone, settingsJSON: settings),
            now: now, on: db
        )
        let owner = try await services.users.create(
            tenantId: tenant.id, email: valid.email, passwordHash: passwordHash, role: .owner, verified: false, now: now, on: db
        )
        try await Self.seedSchedule(valid, tenantId: tenant.id, now: now, on: db)
        let key = APIKeyFormat.generate(.live)
        let record = try await services.apiKeys.create(
            tenantId: tenant.id, name: "Default key", key: key, scopes: Scope.allNames.sorted(), expiresAt: nil,
            createdBy: owner.id, now: now, on: db
        )
        try await services.audit.append(AuditEntry(
            tenantId: tenant.id, actor: actor, action: "tenant.onboarded", targetType: "tenant", targetId: tenant.id,
            details: ["slug": tenant.slug, "industry": valid.industry.name, "tier": services.tiers.defaultName, "owner_user_id": owner.id,
                      "api_key_id": record.id]
        ), on: db, now: now)

        let base = services.config.baseURL
        let response = OnboardResponse(
            tenantId: tenant.id, slug: tenant.slug, apiKey: key.key, apiKeyId: record.id, ownerEmail: owner.email,
            dashboardUrl: "\(base)/dashboard", docsUrl: "\(base)/docs",
            nextSteps: [
                "Copy your API key now: it is shown only once.",
                "Call GET \(base)/api/me with Authorization: Bearer <your API key> to check it works.",
                "Open the dashboard at \(base)/dashboard and sign in as \(owner.email).",
                "Confirm your email address with the link we sent to \(owner.email): until then, email to your customers is held.",
                "Read the API docs at \(base)/docs to import your leads.",
            ]
        )
        let stored = IdempotencyStore.Stored(status: 201, body: try JSONEncoder.bookline.encode(response))
        if let idempotencyKey {
            try await services.idempotency.save(
                scope: Self.idempotencyScope, key: idempotencyKey, requestHash: requestHash,
                status: stored.status, body: stored.body, now: now, on: db
            )
        }
        return stored
    }

    func validate(_ input: OnboardRequest) throws -> Valid {
        var errors: [Problem.FieldError] = []
        func fail(_ field: String, _ message: String) { errors.append(.init(field: field, message: message)) }

        let name = input.businessName?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if name.isEmpty { fail("businessName", "is required") } else if !(2...120).contains(name.count) || (input.businessName?.count ?? 0) > 120 {
            fail("businessName", "must be 2 to 120 characters")
        }

        var email: EmailAddress?
        switch input.email.map(EmailAddress.parse) {
        case nil: fail("email", "is required")
        case .failure(.empty): fail("email", "is required")
        case .failure: fail("email", "must be a valid email address")
        case .success(let parsed): email = parsed
        }

        var phone: PhoneNumber?
        switch input.phone.map(PhoneNumber.parse) {
        case nil, .failure(.empty): fail("phone", "is required")
        case .failure(let problem): fail("phone", "is not a valid phone number (\(problem.rawValue))")
        case .success(let parsed): phone = parsed
        }

        let industryName = input.industry?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let industry = services.industries.templates[industryName]
        if industryName.isEmpty { fail("industry", "is required") } else if industry == nil {
            fail("industry", "must be one of \(services.industries.names.joined(separator: ", "))")
        }

        let serviceNames = (input.services ?? []).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        if serviceNames.count > 50 { fail("services", "may list at most 50 services") }
        if serviceNames.contains(where: { $0.count > 80 }) { fail("services", "each service name must be at most 80 characters") }

        let password = input.password ?? ""
        let context = [name.filter(\.isLetter), email.map { String($0.normalized.prefix { $0 != "@" }) } ?? ""]
        switch PasswordPolicy.check(password, context: context) {
        case nil: break
        case .tooShort: fail("password", password.isEmpty ? "is required" : "must be at least \(PasswordPolicy.minimumLength) characters")
        case .tooLong: fail("password", "must be at most \(PasswordPolicy.maximumLength) characters")
        case .common: fail("password", "is too common or too easy to guess; choose another")
        }

        let timezone = input.timezone?.trimmingCharacters(in: .whitespaces) ?? "Europe/London"
        if !TimeZones.isKnown(timezone) {
            fail("timezone", "must be an IANA time zone such as Europe/London")
        }

        guard errors.isEmpty, let email, let phone, let industry else { throw Problem.validation(errors) }
        return Valid(businessName: name, email: email, phone: phone, industry: industry, serviceNames: serviceNames,
                     password: password, timezone: timezone)
    }

    /// The tenant's starting settings: the industry template, with the services the owner named.
    static func settingsJSON(_ valid: Valid) throws -> String {
        struct Settings: Encodable {
            let contactEmail: String
            let contactPhone: String
            let currency: String
            let services: [IndustryTemplate.Service]
            let openingHours: [String: String]
            let messageTemplates: [String: String]
            let assistant: IndustryTemplate.Assistant
        }
        let template = valid.industry
        let services = valid.serviceNames.isEmpty ? template.services : valid.serviceNames.map { name in
            template.services.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
                ?? IndustryTemplate.Service(name: name, durationMinutes: 30, priceMinor: 0)
        }
        let settings = Settings(
            contactEmail: valid.email.normalized, contactPhone: valid.phone.e164, currency: template.currency,
            services: services, openingHours: template.openingHours, messageTemplates: template.messages,
            assistant: template.assistant
        )
        return String(decoding: try JSONEncoder.bookline.encode(settings), as: UTF8.self)
    }

    /// The industry's services and opening hours become the new tenant's bookable schedule, so
    /// GET /api/availability answers from the first minute; the owner changes them in settings.
    static func seedSchedule(_ valid: Valid, tenantId: String, now: Date, on db: any SQLDatabase) async throws {
        let template = valid.industry
        let services = valid.serviceNames.isEmpty ? template.services : valid.serviceNames.map { name in
            template.services.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
                ?? IndustryTemplate.Service(name: name, durationMinutes: 30, priceMinor: 0)
        }
        let store = ScheduleStore()
        for service in services {
            let minutes = min(480, max(5, (service.durationMinutes + 4) / 5 * 5))
            try await store.insert(BookableService(
                tenantId: tenantId, id: Identifier.make(now: now), name: String(service.name.prefix(100)), durationMinutes: minutes,
                priceMinor: max(0, service.priceMinor), active: true, createdAt: now, updatedAt: now
            ), on: db)
        }
        var schedule = Schedule()
        let days = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]
        for (day, hours) in template.openingHours {
            let parts = hours.split(separator: "-").map(String.init)
            guard let weekday = days[day.lowercased().prefix(3).description], parts.count == 2,
                  let opens = OpeningInterval.minutes(parts[0]), let closes = OpeningInterval.minutes(parts[1]), opens < closes
            else { continue }
            schedule.weekly[weekday] = [OpeningInterval(opens: opens, closes: closes)]
        }
        try await store.save(schedule, tenantId: tenantId, now: now, on: db)
    }
}
