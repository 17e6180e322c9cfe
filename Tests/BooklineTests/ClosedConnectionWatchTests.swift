@testable import Bookline
import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import Testing

/// A statement handed to a PostgreSQL connection that has just closed fails as a lost
/// connection instead of waiting forever (what held up a shutdown after a database outage).
@Suite("Closed PostgreSQL connections")
struct ClosedConnectionWatchTests {
    static let logger = Logger(label: "test")

    static func connect() async throws -> PostgresConnection {
        let configuration = try SQLPostgresConfiguration(url: try #require(TestDatabase.postgresURL)).coreConfiguration
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    }

    /// The outcome of `future`, or nil if it has not completed within `limit` (the test never hangs).
    static func outcome<Value: Sendable>(of future: EventLoopFuture<Value>, within limit: TimeAmount) async -> Result<Value, any Error>? {
        let loop = future.eventLoop
        let promise = loop.makePromise(of: Result<Value, any Error>?.self)
        let timer = loop.scheduleTask(in: limit) { promise.succeed(nil) }
        future.whenComplete { result in
            timer.cancel()
            promise.succeed(result)
        }
        return try? await promise.futureResult.get()
    }

    @Test(.enabled(if: TestDatabase.engine == .postgres, "PostgreSQL connections"))
    func aStatementOnAClosedConnectionFailsAsALostConnection() async throws {
        let connection = try await Self.connect()
        try await connection.close()
        let statement = connection.query("SELECT 1")
        let guarded = ClosedConnectionWatch.guarding(statement, on: connection, interval: .milliseconds(50))
        let result = try #require(await Self.outcome(of: guarded, within: .seconds(5)), "the guarded statement never finished")
        #expect(throws: ChannelError.self) { try result.get() }
        #expect(TransientError.isTransient(ChannelError.ioOnClosedChannel), "answered 503 with Retry-After, not 500")
    }

    @Test(.enabled(if: TestDatabase.engine == .postgres, "PostgreSQL connections"))
    func aStatementOnAnOpenConnectionIsUntouched() async throws {
        let connection = try await Self.connect()
        let statement = connection.query("SELECT 41 + 1 AS answer FROM pg_sleep(0.2)")
        let guarded = ClosedConnectionWatch.guarding(statement, on: connection, interval: .milliseconds(50))
        let rows = try #require(await Self.outcome(of: guarded, within: .seconds(5))).get().rows
        #expect(try rows.first?.decode(Int.self) == 42)
        try await connection.close()
    }
}
