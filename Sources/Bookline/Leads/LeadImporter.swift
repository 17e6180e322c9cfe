import BooklineCore
import Foundation
import SQLKit

/// Runs an import: each row is validated, normalised, checked against the opt-out lists and
/// for duplicates (in the file, then in the tenant's leads by the duplicate window), then
/// inserted or merged. Rows go in batches, each one transaction that also records progress,
/// so a crash leaves whole batches and a record of where it stopped. A dry run writes nothing.
public struct LeadImporter: Sendable {
    /// Rows per transaction: big enough to amortise index and WAL writes, small enough that other
    /// writers wait well under a second for the SQLite write lock.
    public static let batchSize = 5000
    static let analyzeAfterRows = 1000

    let database: Database
    let leads = LeadStore()
    let imports = LeadImportStore()
    let optOuts: OptOutService
    let events: EventLog
    let audit: AuditLog

    init(database: Database, optOuts: OptOutService, audit: AuditLog) {
        self.database = database
        self.optOuts = optOuts
        self.events = EventLog(engine: database.engine)
        self.audit = audit
    }

    public struct Job: Sendable {
        public let tenantId: String
        /// nil for a dry run (nothing is recorded).
        public let importId: String?
        public let file: ImportFile
        public let policy: DuplicatePolicy
        public let actor: AuditActor
        /// The moment duplicate windows are measured from.
        public let now: Date

        public init(tenantId: String, importId: String?, file: ImportFile, policy: DuplicatePolicy, actor: AuditActor, now: Date) {
            self.tenantId = tenantId
            self.importId = importId
            self.file = file
            self.policy = policy
            self.actor = actor
            self.now = now
        }
    }

    /// Records a new import run (status running) and returns its id.
    public func begin(tenantId: String, file: ImportFile, background: Bool, actor: AuditActor, now: Date) async throws -> String {
        let id = Identifier.make(now: now)
        try await imports.create(
            tenantId: tenantId, id: id, format: file.format.rawValue, background: background,
            report: ImportReport(total: file.rows.count, columns: file.columns), createdBy: actor.id, now: now, on: database.sql
        )
        return id
    }

    /// Processes every row; `clock` stamps progress. Cancellation stops between batches and
    /// marks the import interrupted.
    public func run(_ job: Job, clock: @escaping @Sendable () -> Date = Date.init,
                    progress: @Sendable (ImportReport) -> Void = { _ in }) async throws -> ImportReport {
        var report = ImportReport(total: job.file.rows.count, columns: job.file.columns)
        var seen = Set<String>()
        let batches = stride(from: 0, to: job.file.rows.count, by: Self.batchSize).map {
            job.file.rows[$0..<min($0 + Self.batchSize, job.file.rows.count)]
        }
        // Validation is pure CPU work: the next batch is checked while this one is written,
        // so the database thread and a second core work at the same time.
        var next: Task<[CheckedRow], Never>? = batches.first.map { first in Task { Self.check(first, of: job.file) } }
        defer { next?.cancel() }
        do {
            for index in batches.indices {
                try Task.checkCancellation()
                guard let checked = await next?.value else { break }
                next = index + 1 < batches.count ? Task { [batch = batches[index + 1]] in Self.check(batch, of: job.file) } : nil
                if let importId = job.importId {
                    (report, seen) = try await database.transaction { [report, seen] db in
                        var report = report
                        var seen = seen
                        try await process(checked, job: job, report: &report, seen: &seen, write: db)
                        try await imports.progress(tenantId: job.tenantId, id: importId, report: report, now: clock(), on: db)
                        return (report, seen)
                    }
                } else {
                    try await process(checked, job: job, report: &report, seen: &seen, write: nil)
                }
                progress(report)
            }
        } catch {
            if let importId = job.importId {
                let status: LeadImportRecord.Status = error is CancellationError ? .interrupted : .failed
                let message = error is CancellationError
                    ? "The server stopped during the import; \(report.processed) of \(report.total) rows were committed."
                    : "The import failed after \(report.processed) of \(report.total) rows."
                try? await imports.finish(tenantId: job.tenantId, id: importId, status: status, report: report, error: message, now: clock(),
                                          on: database.sql)
            }
            throw error
        }
        if let importId = job.importId {
            try await database.transaction { [report] db in
                try await imports.finish(tenantId: job.tenantId, id: importId, status: .completed, report: report, error: nil,
                                         now: clock(), on: db)
                var details = report.counts.mapValues(String.init)
                details["import_id"] = importId
                details["total"] = String(report.total)
                try await audit.append(AuditEntry(
                    tenantId: job.tenantId, actor: job.actor, action: "leads.imported", targetType: "lead_import",
                    targetId: importId, details: details
                ), on: db, now: clock())
            }
            // A bulk load makes PostgreSQL's statistics stale until autovacuum notices, and stale
            // statistics pick sequential scans for filtered pages: refresh them now.
            if database.engine == .postgres, report.count(.imported) >= Self.analyzeAfterRows {
                try? await database.sql.raw("ANALYZE leads").run()
            }
        }
        return report
    }

    /// A row after validation: a draft, or the reason it is invalid.
    struct CheckedRow: Sendable {
        let number: Int
        let draft: LeadDraft?
        let reason: String?
    }

    static func check(_ batch: ArraySlice<ImportRow>, of file: ImportFile) -> [CheckedRow] {
        batch.map { row in
            let input: LeadInput
            switch file.input(of: row) {
            case .success(let read): input = read
            case .failure(let violation): return CheckedRow(number: row.number, draft: nil, reason: violation.reason)
            }
            switch LeadRules.validate(input) {
            case .success(let draft): return CheckedRow(number: row.number, draft: draft, reason: nil)
            case .failure(let violations): return CheckedRow(number: row.number, draft: nil, reason: violations.items.first?.reason)
            }
        }
    }

    /// Decides every row of a checked batch and, with `write`, applies the decisions on that connection.
    func process(_ batch: [CheckedRow], job: Job, report: inout ImportReport, seen: inout Set<String>,
                 write db: (any SQLDatabase)?) async throws {
        var drafts: [(row: CheckedRow, draft: LeadDraft)] = []
        var decided: [Int: RowOutcome] = [:]
        for row in batch {
            guard let draft = row.draft else {
                decided[row.number] = RowOutcome(row: row.number, outcome: .invalid, reason: row.reason, phone: nil, leadId: nil)
                continue
            }
            if !seen.insert(draft.phone.e164).inserted {
                decided[row.number] = RowOutcome(row: row.number, outcome: .skippedDuplicate, reason: "duplicate_in_file",
                                                 phone: draft.phone.e164, leadId: nil)
            } else {
                drafts.append((row, draft))
            }
        }
        let reader = db ?? database.sql
        let phones = drafts.map(\.draft.phone.e164)
        let optedOut = try await optOuts.optedOut(tenantId: job.tenantId, among: phones, on: reader)
        let existing = try await leads.find(tenantId: job.tenantId, phones: phones, on: reader)

        var inserts: [Lead] = []
        var updates: [Lead] = []
        for (row, draft) in drafts {
            let phone = draft.phone.e164
            if optedOut.contains(phone) {
                // The report is stored: a suppressed number (perhaps an erased person's) is not kept
                // in it again; the row number tells the tenant which line it was.
                decided[row.number] = RowOutcome(row: row.number, outcome: .optedOut, reason: "opted_out", phone: nil, leadId: existing[phone]?.id)
            } else if let lead = existing[phone] {
                let days = Int(job.now.timeIntervalSince(lead.lastActivity) / 86_400)
                switch job.policy.decide(lastActivity: lead.lastActivity, now: job.now) {
                case .skip:
                    decided[row.number] = RowOutcome(row: row.number, outcome: .skippedDuplicate,
                                                     reason: "contacted_within_\(job.policy.skipDays)_days", phone: phone, leadId: lead.id)
                case .warn:
                    updates.append(Self.merge(draft, into: lead, now: job.now))
                    decided[row.number] = RowOutcome(row: row.number, outcome: .warnedDuplicate,
                                                     reason: "contacted_\(days)_days_ago", phone: phone, leadId: lead.id)
                case .allow:
                    updates.append(Self.merge(draft, into: lead, now: job.now))
                    decided[row.number] = RowOutcome(row: row.number, outcome: .updated, reason: nil, phone: phone, leadId: lead.id)
                }
            } else {
                let lead = Self.newLead(draft, tenantId: job.tenantId, now: job.now)
                inserts.append(lead)
                decided[row.number] = RowOutcome(row: row.number, outcome: .imported, reason: nil, phone: phone, leadId: lead.id)
            }
        }
        if let db {
            try await leads.insert(inserts, on: db)
            for lead in updates { try await leads.update(lead, on: db) }
            // One event per committed batch, not one per row: a 100k-row import must not flood the
            // live feed (or the events table) with 100k lead_created events.
            if !inserts.isEmpty || !updates.isEmpty, let importId = job.importId {
                try await events.append([NewEvent(type: "leads_imported", subjectType: "lead_import", subjectId: importId, payload: [
                    "import_id": importId, "imported": String(inserts.count), "updated": String(updates.count),
                ])], tenantId: job.tenantId, on: db, now: job.now)
            }
        }
        for row in batch { if let outcome = decided[row.number] { report.record(outcome) } }
    }

    static func newLead(_ draft: LeadDraft, tenantId: String, now: Date) -> Lead {
        Lead(tenantId: tenantId, id: Identifier.make(now: now), name: draft.name, phone: draft.phone.e164,
             phoneType: draft.phone.kind.rawValue, email: draft.email, source: draft.source, status: .new, tags: draft.tags,
             notes: draft.notes, customFields: draft.customFields, lastContactedAt: nil, createdAt: now, updatedAt: now)
    }

    /// The file's non-empty values win; tags and custom fields are merged, never dropped.
    static func merge(_ draft: LeadDraft, into lead: Lead, now: Date) -> Lead {
        var lead = lead
        lead.name = draft.name ?? lead.name
        lead.email = draft.email ?? lead.email
        lead.notes = draft.notes ?? lead.notes
        for tag in draft.tags where !lead.tags.contains(where: { $0.caseInsensitiveCompare(tag) == .orderedSame }) {
            lead.tags.append(tag)
        }
        lead.tags = Array(lead.tags.prefix(LeadRules.maxTags))
        lead.customFields.merge(draft.customFields) { _, new in new }
        lead.updatedAt = now
        return lead
    }
}
