import BooklineCore
import Testing

@Suite struct SQLScriptTests {
    @Test func splitsOnSemicolonsBetweenStatements() {
        let script = """
            -- leading comment; with a semicolon
            CREATE TABLE a (id TEXT);
            CREATE INDEX a_id ON a (id);

            """
        #expect(SQLScript.statements(in: script) == [
            "-- leading comment; with a semicolon\nCREATE TABLE a (id TEXT)",
            "CREATE INDEX a_id ON a (id)",
        ])
    }

    @Test func keepsSemicolonsInsideQuotesCommentsAndDollarBodies() {
        let script = """
            INSERT INTO t VALUES ('a;b', "c;d");
            /* block; comment */ SELECT 1;
            CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN RAISE 'no; way'; END; $body$ LANGUAGE plpgsql;
            DO $$ BEGIN PERFORM 1; END $$;
            """
        let statements = SQLScript.statements(in: script)
        #expect(statements.count == 4)
        #expect(statements[0] == #"INSERT INTO t VALUES ('a;b', "c;d")"#)
        #expect(statements[1] == "/* block; comment */ SELECT 1")
        #expect(statements[2].hasSuffix("$body$ LANGUAGE plpgsql"))
        #expect(statements[3] == "DO $$ BEGIN PERFORM 1; END $$")
    }

    @Test func dropsEmptyAndCommentOnlyStatements() {
        #expect(SQLScript.statements(in: ";;\n-- only a comment\n;  ") == [])
        #expect(SQLScript.statements(in: "SELECT 1") == ["SELECT 1"])
    }

    @Test func escapedQuotesDoNotEndAString() {
        #expect(SQLScript.statements(in: "SELECT 'it''s; fine'; SELECT 2") == ["SELECT 'it''s; fine'", "SELECT 2"])
    }

    @Test func positionalParametersAreNotDollarQuotes() {
        #expect(SQLScript.statements(in: "SELECT $1; SELECT $2") == ["SELECT $1", "SELECT $2"])
    }
}

@Suite struct MigrationFileTests {
    @Test func parsesVersionNameAndScope() throws {
        let file = try MigrationFile(name: "0007_add_leads.sql", sql: "SELECT 1;")
        #expect(file.version == "0007")
        #expect(file.scope == .all)
        let pg = try MigrationFile(name: "0008_rls.postgres.sql", sql: "")
        #expect(pg.scope == .postgresOnly)
    }

    @Test(arguments: ["leads.sql", "0001.sql", "0001-leads.sql", "_x.sql"])
    func refusesBadNames(name: String) {
        #expect(throws: MigrationFileError.badName(name)) { try MigrationFile(name: name, sql: "") }
    }

    @Test func checksumIsSHA256OfTheText() throws {
        let file = try MigrationFile(name: "0001_a.sql", sql: "abc")
        #expect(file.checksum == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let edited = try MigrationFile(name: "0001_a.sql", sql: "abc ")
        #expect(edited.checksum != file.checksum)
    }

    @Test func ordersNumericallyAndRefusesDuplicateVersions() throws {
        let files = try ["0010_c.sql", "0002_b.sql", "0001_a.sql"].map { try MigrationFile(name: $0, sql: "") }
        #expect(try MigrationFile.ordered(files).map(\.name) == ["0001_a.sql", "0002_b.sql", "0010_c.sql"])
        let clash = try ["0002_b.sql", "0002_c.postgres.sql"].map { try MigrationFile(name: $0, sql: "") }
        #expect(throws: MigrationFileError.duplicateVersion("0002_b.sql", "0002_c.postgres.sql")) {
            try MigrationFile.ordered(clash)
        }
    }
}
