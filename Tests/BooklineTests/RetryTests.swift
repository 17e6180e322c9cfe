import AsyncKit
import Bookline
import BooklineCore
import Foundation
import Synchronization
import Testing

@Suite("withRetry")
struct RetryTests {
    let fast = Backoff(baseSeconds: 0.001, capSeconds: 0.005, maxAttempts: 4)

    @Test func retriesTransientErrorsUntilSuccess() async throws {
        let calls = Mutex(0)
        let value = try await withRetry("test", backoff: fast, logger: quietLogger) {
            let call = calls.withLock { $0 += 1; return $0 }
            if call < 3 { throw ConnectionPoolTimeoutError.connectionRequestTimeout }
            return "done"
        }
        #expect(value == "done")
        #expect(calls.withLock { $0 } == 3)
    }

    @Test func givesUpWithAClearError() async throws {
        let calls = Mutex(0)
        let error = await #expect(throws: DatabaseUnavailable.self) {
            try await withRetry("load tenant", backoff: fast, logger: quietLogger) { () -> Int in
                calls.withLock { $0 += 1 }
                throw ConnectionPoolTimeoutError.connectionRequestTimeout
            }
        }
        #expect(calls.withLock { $0 } == 4)
        #expect(error?.description == "database unavailable: load tenant failed 4 times")
    }

    @Test func otherErrorsAreNotRetried() async throws {
        struct Permanent: Error {}
        let calls = Mutex(0)
        await #expect(throws: Permanent.self) {
            try await withRetry("test", backoff: fast, logger: quietLogger) { () -> Int in
                calls.withLock { $0 += 1 }
                throw Permanent()
            }
        }
        #expect(calls.withLock { $0 } == 1)
    }

    @Test(.enabled(if: TestDatabase.engine == .sqlite))
    func aBusySQLiteDatabaseIsRetriedNotFailed() async throws {
        // Two writers on one SQLite file: the busy timeout plus BEGIN IMMEDIATE serialise them.
        try await TestDatabase.withFresh { config in
            let database = try await Database.open(config, logger: quietLogger)
            try await database.sql.raw("CREATE TABLE counter (n INTEGER NOT NULL)").run()
            try await database.sql.raw("INSERT INTO counter (n) VALUES (0)").run()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await withRetry("increment", logger: quietLogger) {
                            try await database.transaction { db in
                                let n = try await db.raw("SELECT n FROM counter").first()?.decode(column: "n", as: Int.self) ?? 0
                                try await db.raw("UPDATE counter SET n = \(bind: n + 1)").run()
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let total = try await database.sql.raw("SELECT n FROM counter").first()?.decode(column: "n", as: Int.self)
            await database.close()
            #expect(total == 20)
        }
    }
}
