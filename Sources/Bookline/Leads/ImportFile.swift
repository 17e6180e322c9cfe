import BooklineCore
import Foundation
import SwiftCSV

/// One row of an import file, before validation. `number` is what people see: for CSV the
/// record's row in a spreadsheet (the header is row 1), for JSON the element's position from 1.
/// CSV rows keep the parser's fields and become a `LeadInput` only when their batch is checked,
/// so a 100k-row file holds one small array per row, not a dictionary.
public struct ImportRow: Sendable {
    enum Content: Sendable {
        case fields([String])
        case lead(LeadInput)
        /// Could not even be read as a lead (a JSON element that is not an object).
        case unreadable(String)
    }

    public let number: Int
    let content: Content
}

/// An import body (CSV or JSON) parsed into rows, with how its columns were understood.
public struct ImportFile: Sendable {
    public enum Format: String, Sendable, Codable { case csv, json }

    /// The file's columns that feed each lead field, and the ones kept as custom fields or ignored.
    public struct Columns: Sendable, Codable, Equatable {
        public var mapped: [String: String] = [:]
        public var custom: [String] = []
        public var ignored: [String] = []
    }

    public let format: Format
    public let rows: [ImportRow]
    public let columns: Columns
    /// How CSV fields map to lead fields (nil for JSON).
    let plan: ColumnPlan?

    /// The row as lead fields, or why it cannot be one.
    func input(of row: ImportRow) -> Result<LeadInput, LeadRules.Violation> {
        switch row.content {
        case .fields(let fields):
            guard let plan else { return .failure(.init(field: "row", reason: "unreadable", message: "cannot be read")) }
            return .success(plan.input(fields))
        case .lead(let input): return .success(input)
        case .unreadable(let reason): return .failure(.init(field: "row", reason: reason, message: "is not a lead object"))
        }
    }

    /// Unknown columns beyond this many are ignored rather than stored as custom fields.
    static let maxCustomColumns = 20
    static let defaultSource = "import"

    static func tooManyRows(_ count: String, limit: Int, tier: String) -> Problem {
        Problem(status: .unprocessableContent, slug: "import-too-large", title: "Import too large",
                detail: "This file has \(count) rows; the \(tier) tier imports at most \(limit) leads per file. Split the file and import each part.")
    }

    /// Parses a CSV body. Refuses (before any write) files over `maxRows`, files without a
    /// phone column and files that look separated by something other than `delimiter`.
    public static func csv(_ bytes: some Collection<UInt8>, delimiter: Character = ",", maxRows: Int, tier: String) throws -> ImportFile {
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw Problem.malformedBody("The CSV file is not UTF-8 text; export it as CSV UTF-8.")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let csvDelimiter = CSVDelimiter.character(delimiter)
        let header: [String]
        do {
            header = try CSV<Enumerated>(string: text, delimiter: csvDelimiter, loadColumns: false, rowLimit: 0).header
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        } catch {
            throw Problem.malformedBody("The CSV header row could not be read: check its quotes.")
        }
        guard header.contains(where: { !$0.isEmpty }) else {
            throw Problem.malformedBody("The CSV file is empty; the first row must name the columns (for example name,phone,email).")
        }
        if header.count == 1, let other = [";", "\t", "|"].first(where: { header[0].contains($0) }), other != String(delimiter) {
            let name = other == ";" ? "semicolon" : other == "\t" ? "tab" : "pipe"
            throw Problem(status: .unprocessableContent, slug: "csv-delimiter", title: "Wrong CSV delimiter",
                          detail: "The header row looks \(name)-separated, but columns must be separated by commas. Save the file as comma-separated CSV, or send ?delimiter=\(name == "pipe" ? "comma" : name).")
        }
        let plan = ColumnPlan(header: header)
        guard plan.indices[.phone] != nil else {
            let names = ["phone", "mobile", "telephone", "tel", "phone number", "cell"].joined(separator: ", ")
            throw Problem(status: .unprocessableContent, slug: "csv-missing-column", title: "No phone column",
                          detail: "The CSV header has no phone column. Name one of the columns \(names).")
        }
        var rows: [ImportRow] = []
        var recordIndex = 0
        var overLimit = false
        do {
            try CSV<Enumerated>(string: text, delimiter: csvDelimiter, loadColumns: false, rowLimit: 0)
                .enumerateAsArray(startAt: 1, rowLimit: nil) { fields in
                    recordIndex += 1
                    guard !overLimit, fields.contains(where: { $0.contains { !$0.isWhitespace } }) else { return }
                    guard rows.count < maxRows else { overLimit = true; return }
                    rows.append(ImportRow(number: recordIndex + 1, content: .fields(fields)))
                }
        } catch {
            throw Problem.malformedBody("The CSV file is malformed after row \(recordIndex + 1): a quote inside a field must be doubled (\"\").")
        }
        if overLimit { throw tooManyRows("more than \(maxRows)", limit: maxRows, tier: tier) }
        return ImportFile(format: .csv, rows: rows, columns: plan.report, plan: plan)
    }

    /// Parses a JSON body: an array of lead objects, or `{"leads": [...]}`.
    public static func json(_ data: Data, maxRows: Int, tier: String) throws -> ImportFile {
        let elements: [JSONValue]
        do {
            let root = try JSONDecoder().decode(JSONValue.self, from: data)
            if case .array(let array) = root {
                elements = array
            } else if case .object(let object) = root, case .array(let array)? = object["leads"] {
                elements = array
            } else {
                throw Problem.malformedBody("Send a JSON array of leads, or an object with a \"leads\" array.")
            }
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem.malformedBody("The body is not valid JSON.")
        }
        guard elements.count <= maxRows else { throw tooManyRows(String(elements.count), limit: maxRows, tier: tier) }
        var columns = Columns()
        let rows = elements.enumerated().map { index, element -> ImportRow in
            guard case .object(let object) = element else {
                return ImportRow(number: index + 1, content: .unreadable("not_an_object"))
            }
            return ImportRow(number: index + 1, content: .lead(Self.input(object, columns: &columns)))
        }
        return ImportFile(format: .json, rows: rows, columns: columns, plan: nil)
    }

    /// One JSON object as a lead: known keys (and their aliases) map to fields, a
    /// `customFields` object and other scalar keys become custom fields.
    static func input(_ object: [String: JSONValue], columns: inout Columns) -> LeadInput {
        var input = LeadInput(source: nil)
        var first: String?
        var last: String?
        var custom: [String: JSONScalar] = [:]
        for key in object.keys.sorted() {
            let value = object[key] ?? .null
            if ["customfields", "custom"].contains(LeadField.key(key)), case .object(let fields) = value {
                for (name, field) in fields { if let scalar = JSONScalar(field) { custom[name] = scalar } }
                continue
            }
            guard let field = LeadField.match(key) else {
                if let scalar = JSONScalar(value), custom.count < maxCustomColumns {
                    custom[key] = scalar
                    if !columns.custom.contains(key) { columns.custom.append(key) }
                } else if !columns.ignored.contains(key) {
                    columns.ignored.append(key)
                }
                continue
            }
            if columns.mapped[field.rawValue] == nil { columns.mapped[field.rawValue] = key }
            if field == .tags, case .array(let items) = value {
                input.tags = items.compactMap(\.scalarText)
                continue
            }
            guard let text = value.scalarText else { continue }
            switch field {
            case .name: input.name = text
            case .firstName: first = text
            case .lastName: last = text
            case .phone: input.phone = text
            case .email: input.email = text
            case .source: input.source = text
            case .tags: input.tags = splitTags(text)
            case .notes: input.notes = text
            }
        }
        if input.name == nil { input.name = joinName(first, last) }
        input.source = input.source ?? defaultSource
        input.customFields = custom
        return input
    }

    static func splitTags(_ text: String) -> [String] {
        text.split(whereSeparator: { ",;|".contains($0) }).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    static func joinName(_ first: String?, _ last: String?) -> String? {
        let parts = [first, last].compactMap { $0?.trimmingWhitespace() }.filter { !$0.isEmpty }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }
}

/// Which CSV column feeds which field: the first column named for a field wins, later
/// ones fill in when it is empty; unknown columns become custom fields (up to a cap).
struct ColumnPlan: Sendable {
    var indices: [LeadField: [Int]] = [:]
    var customIndices: [(name: String, index: Int)] = []
    var report = ImportFile.Columns()

    init(header: [String]) {
        for (index, column) in header.enumerated() where !column.isEmpty {
            if let field = LeadField.match(column) {
                indices[field, default: []].append(index)
                if report.mapped[field.rawValue] == nil { report.mapped[field.rawValue] = column }
            } else if customIndices.count < ImportFile.maxCustomColumns, !customIndices.contains(where: { $0.name == column }) {
                customIndices.append((column, index))
                report.custom.append(column)
            } else {
                report.ignored.append(column)
            }
        }
    }

    func input(_ fields: [String]) -> LeadInput {
        func value(_ field: LeadField) -> String? {
            for index in indices[field] ?? [] where index < fields.count {
                let text = fields[index].trimmingWhitespace()
                if !text.isEmpty { return text }
            }
            return nil
        }
        var custom: [String: JSONScalar] = [:]
        for (name, index) in customIndices where index < fields.count {
            let text = fields[index].trimmingWhitespace()
            if !text.isEmpty { custom[name] = .string(text) }
        }
        return LeadInput(
            name: value(.name) ?? ImportFile.joinName(value(.firstName), value(.lastName)),
            phone: value(.phone), email: value(.email), source: value(.source) ?? ImportFile.defaultSource,
            tags: value(.tags).map(ImportFile.splitTags), notes: value(.notes), customFields: custom
        )
    }
}
