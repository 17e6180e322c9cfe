import BooklineCore
import Crypto
import Foundation
import Hummingbird
import NIOCore
import ZIPFoundation

/// Everything a tenant owns, table by table through the registry (secrets never selected),
/// read from one consistent snapshot and written page by page so memory stays flat at any size.
struct TenantExport: Sendable {
    static let format = "bookline.tenant-export.v1"

    let database: Database
    let tenantId: String
    let exportedAt: Date

    /// The JSON document: `{"format", "tenantId", "exportedAt", "tables": {name: [rows]}, "counts"}`.
    func writeJSON(to writer: inout any ResponseBodyWriter) async throws {
        let box = WriterBox(writer)
        try await database.snapshotRead { db in
            let header: JSONValue = .object([
                "format": .string(Self.format), "tenantId": .string(tenantId), "exportedAt": .string(ISOTime.string(exportedAt)),
            ])
            // The header object without its closing brace, then the tables member.
            var opening = header.jsonLine
            opening.removeLast()
            try await box.write(opening + Data(",\"tables\":{".utf8))
            var counts: [String: JSONValue] = [:]
            for (index, table) in DataRegistry.exportedTables.enumerated() {
                try await box.write(Data(((index > 0 ? "," : "") + "\n\"\(table.name)\":[").utf8))
                var count = 0
                try await RowReader(table: table).read(tenantId: tenantId, on: db) { rows in
                    var chunk = Data()
                    for row in rows {
                        if count > 0 { chunk.append(contentsOf: Array(",".utf8)) }
                        chunk.append(contentsOf: Array("\n".utf8))
                        chunk.append(JSONValue.object(row).jsonLine)
                        count += 1
                    }
                    try await box.write(chunk)
                }
                counts[table.name] = .integer(count)
                try await box.write(Data("]".utf8))
            }
            try await box.write(Data("},\n\"counts\":".utf8) + JSONValue.object(counts).jsonLine + Data("}\n".utf8))
        }
        writer = box.writer
    }

    struct ManifestFile: Codable, Sendable, Equatable {
        let name: String
        let table: String
        let rows: Int
        let bytes: Int
        let sha256: String
    }

    struct Manifest: Codable, Sendable {
        let format: String
        let tenantId: String
        let exportedAt: Date
        let files: [ManifestFile]
    }

    /// A zip with one JSON Lines file per table and `manifest.json` (rows, bytes and SHA-256 of
    /// each file), built in `folder` on disk. Returns the archive's URL.
    func writeZip(in folder: URL) async throws -> URL {
        let tables = folder.appendingPathComponent("tables")
        try FileManager.default.createDirectory(at: tables, withIntermediateDirectories: true)
        let files = try await database.snapshotRead { db in
            var files: [ManifestFile] = []
            for table in DataRegistry.exportedTables {
                let name = "\(table.name).jsonl"
                let url = tables.appendingPathComponent(name)
                guard FileManager.default.createFile(atPath: url.path, contents: nil),
                      let handle = FileHandle(forWritingAtPath: url.path) else { throw Problem.internalError }
                defer { try? handle.close() }
                var hasher = SHA256()
                var rows = 0, bytes = 0
                try await RowReader(table: table).read(tenantId: tenantId, on: db) { page in
                    var chunk = Data()
                    for row in page {
                        chunk.append(JSONValue.object(row).jsonLine)
                        chunk.append(0x0A)
                    }
                    hasher.update(data: chunk)
                    try handle.write(contentsOf: chunk)
                    rows += page.count
                    bytes += chunk.count
                }
                files.append(ManifestFile(name: name, table: table.name, rows: rows, bytes: bytes,
                                          sha256: Hex.encode(hasher.finalize())))
            }
            return files
        }
        let manifest = Manifest(format: Self.format, tenantId: tenantId, exportedAt: exportedAt, files: files)
        let encoder = JSONEncoder.bookline
        try encoder.encode(manifest).write(to: tables.appendingPathComponent("manifest.json"))

        let archiveURL = folder.appendingPathComponent("export.zip")
        let archive = try Archive(url: archiveURL, accessMode: .create)
        try archive.addEntry(with: "manifest.json", relativeTo: tables, compressionMethod: .deflate)
        for file in files {
            try archive.addEntry(with: file.name, relativeTo: tables, compressionMethod: .deflate)
        }
        return archiveURL
    }
}

/// Lets the export's snapshot closure (which must be `@Sendable`) write to the response. Only
/// the one task running the export ever touches it, strictly in sequence.
private final class WriterBox: @unchecked Sendable {
    var writer: any ResponseBodyWriter

    init(_ writer: any ResponseBodyWriter) { self.writer = writer }

    func write(_ data: Data) async throws {
        try await writer.write(ByteBuffer(bytes: data))
    }
}

/// Streams a file from disk in chunks and removes its folder afterwards.
enum FileResponse {
    static let chunkSize = 256 * 1024

    static func body(of url: URL, removing folder: URL) throws -> ResponseBody {
        let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        return ResponseBody(contentLength: size) { writer in
            defer { try? FileManager.default.removeItem(at: folder) }
            guard let handle = FileHandle(forReadingAtPath: url.path) else { throw Problem.internalError }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
    }
}
