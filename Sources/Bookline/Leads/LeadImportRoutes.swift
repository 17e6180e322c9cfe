import BooklineCore
import Foundation
import Hummingbird

/// `POST /api/leads/import` (CSV or JSON, `?dry_run=true`), and the import runs it records.
struct LeadImportRoutes {
    let services: AppServices

    struct ImportView: ResponseEncodable {
        /// nil for a dry run, which records nothing.
        let id: String?
        let status: String
        let dryRun: Bool
        let background: Bool
        let format: String
        let total: Int
        let processed: Int
        let counts: [String: Int]
        let rows: [RowOutcome]
        let rowsOmitted: Int
        let columns: ImportFile.Columns
        let error: String?
        let createdAt: Date?
        let updatedAt: Date?
        let finishedAt: Date?

        init(_ record: LeadImportRecord) {
            id = record.id
            status = record.status.rawValue
            dryRun = false
            background = record.background
            format = record.format
            total = record.report.total
            processed = record.report.processed
            counts = record.report.counts
            rows = record.report.rows
            rowsOmitted = record.report.rowsOmitted
            columns = record.report.columns
            error = record.error
            createdAt = record.createdAt
            updatedAt = record.updatedAt
            finishedAt = record.finishedAt
        }

        init(dryRun report: ImportReport, format: ImportFile.Format) {
            id = nil
            status = "completed"
            dryRun = true
            background = false
            self.format = format.rawValue
            total = report.total
            processed = report.processed
            counts = report.counts
            rows = report.rows
            rowsOmitted = report.rowsOmitted
            columns = report.columns
            error = nil
            createdAt = nil
            updatedAt = nil
            finishedAt = nil
        }
    }

    struct ImportPage: ResponseEncodable {
        let items: [ImportView]
        let nextCursor: String?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post("leads/import", use: importLeads)
        group.get("leads/imports", use: list)
        group.get("leads/imports/{id}", use: show)
    }

    @Sendable func importLeads(_ request: Request, context: TenantRequestContext) async throws -> EditedResponse<ImportView> {
        try context.tenant.require(.leadsWrite)
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var dryRun = false
        if let text = query["dry_run"] {
            switch text.lowercased() {
            case "true", "1", "yes": dryRun = true
            case "false", "0", "no": dryRun = false
            default: errors.append(.init(field: "dry_run", message: "must be true or false"))
            }
        }
        let delimiters: [String: Character] = ["comma": ",", "semicolon": ";", "tab": "\t"]
        let delimiter = query["delimiter"].map { delimiters[String($0)] } ?? ","
        if delimiter == nil { errors.append(.init(field: "delimiter", message: "must be comma, semicolon or tab")) }
        guard errors.isEmpty, let delimiter else { throw Problem.validation(errors) }

        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let isCSV = ["text/csv", "application/csv", "text/plain"].contains { contentType.hasPrefix($0) }
        let isJSON = contentType.hasPrefix("application/json")
        guard isCSV || isJSON else {
            throw Problem(status: .unsupportedMediaType, slug: "unsupported-media-type", title: "Unsupported media type",
                          detail: "Send the file as text/csv (a header row, then one lead per row) or application/json (an array of leads).")
        }
        let body = try await request.body.collect(upTo: services.config.maxImportBytes)
        guard body.readableBytes > 0 else { throw Problem.malformedBody("The request body is empty; send the file to import.") }
        let tenant = context.tenant
        let limit = services.tiers.tier(tenant.tier).maxLeadsPerImport
        let file = isCSV
            ? try ImportFile.csv(body.readableBytesView, delimiter: delimiter, maxRows: limit, tier: tenant.tier)
            : try ImportFile.json(Data(buffer: body), maxRows: limit, tier: tenant.tier)

        let now = services.now()
        let actor = context.auditActor(request)
        let policy = try await services.leads.duplicatePolicy(tenantId: tenant.tenantId)
        let importer = services.importer
        if dryRun {
            let job = LeadImporter.Job(tenantId: tenant.tenantId, importId: nil, file: file, policy: policy, actor: actor, now: now)
            let report = try await importer.run(job, clock: services.now)
            return EditedResponse(status: .ok, response: ImportView(dryRun: report, format: file.format))
        }
        let background = file.rows.count > services.config.backgroundImportRows
        let id = try await importer.begin(tenantId: tenant.tenantId, file: file, background: background, actor: actor, now: now)
        let job = LeadImporter.Job(tenantId: tenant.tenantId, importId: id, file: file, policy: policy, actor: actor, now: now)
        if background {
            let logger = services.logger
            services.importRunner.start(id: id) {
                do {
                    _ = try await importer.run(job, clock: services.now)
                } catch {
                    logger.warning("lead import stopped", metadata: ["import_id": "\(id)", "tenant_id": "\(tenant.tenantId)",
                                                                     "error": "\(TransientError.kind(of: error))"])
                }
            }
        } else {
            _ = try await importer.run(job, clock: services.now)
        }
        guard let record = try await services.findImport(tenantId: tenant.tenantId, id: id) else { throw Problem.internalError }
        var response = EditedResponse(status: background ? .accepted : .ok, response: ImportView(record))
        response.headers[.location] = "/api/leads/imports/\(id)"
        return response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> ImportView {
        try context.tenant.require(.leadsRead)
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id), let record = try await services.findImport(tenantId: context.tenant.tenantId, id: id) else {
            throw Problem.notFound("No import with this id.")
        }
        return ImportView(record)
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> ImportPage {
        try context.tenant.require(.leadsRead)
        var errors: [Problem.FieldError] = []
        let paging = PageQuery(request.uri.queryParameters, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let rows = try await LeadImportStore().list(tenantId: context.tenant.tenantId, limit: paging.limit + 1,
                                                    cursor: paging.cursor, now: services.now(), on: services.database.sql)
        let page = paging.page(rows, id: \.id)
        return ImportPage(items: page.items.map(ImportView.init), nextCursor: page.nextCursor)
    }
}

extension AppServices {
    func findImport(tenantId: String, id: String) async throws -> LeadImportRecord? {
        try await LeadImportStore().find(tenantId: tenantId, id: id, now: now(), on: database.sql)
    }
}
