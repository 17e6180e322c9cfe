import BooklineCore
import Hummingbird

/// `limit` (1 to 200, default 50) and `cursor` (the id of the last row seen) from a query,
/// shared by every paginated list. Problems are appended to `errors` so each field is named.
struct PageQuery: Sendable {
    static let maxLimit = 200
    let limit: Int
    let cursor: String?

    init(_ query: Parameters, errors: inout [Problem.FieldError]) {
        limit = query["limit"].map { Int($0) ?? -1 } ?? 50
        if !(1...Self.maxLimit).contains(limit) {
            errors.append(.init(field: "limit", message: "must be from 1 to \(Self.maxLimit)"))
        }
        cursor = query["cursor"].map(String.init)
        if let cursor, !Identifier.isValid(cursor) {
            errors.append(.init(field: "cursor", message: "is not a valid cursor"))
        }
    }

    /// Cuts the one-extra row fetched to learn whether another page follows.
    func page<Row>(_ rows: [Row], id: (Row) -> String) -> (items: ArraySlice<Row>, nextCursor: String?) {
        let items = rows.prefix(limit)
        return (items, rows.count > limit ? items.last.map(id) : nil)
    }
}
