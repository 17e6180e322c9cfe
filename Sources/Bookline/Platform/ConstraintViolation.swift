import PostgresKit
import SQLiteKit

/// Recognises a unique-constraint violation from either engine, so a lost race on a unique
/// key (two creates of the same phone) becomes a 409 instead of a 500.
enum ConstraintViolation {
    static func isUnique(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
        if let error = error as? SQLiteError { return [.constraint, .constraintUniqueFailed, .constraintPrimaryKeyFailed].contains(error.reason) }
        return false
    }
}
