.PHONY: run test test-postgres build clean

# Start Bookline on SQLite and print its URL.
run:
	scripts/run

# Every test (unit, HTTP through the router, smoke of the binary) on SQLite,
# or on PostgreSQL when BOOKLINE_TEST_DATABASE_URL is set.
test:
	scripts/test

# The same suite on a throwaway PostgreSQL cluster started for the run.
test-postgres:
	scripts/ensure-deps --postgres
	@eval "$$(scripts/pg-throwaway start)"; trap 'scripts/pg-throwaway stop' EXIT; scripts/test

build:
	swift build

clean:
	rm -rf .build data
