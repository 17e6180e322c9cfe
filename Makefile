.PHONY: run test test-postgres build clean bench soak

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

# A mixed multi-tenant load (reads, writes, webhooks, imports, event streams across 50 tenants)
# on a release build over loopback with wrk: requests/s, p50/p95/p99 per endpoint class, errors,
# RSS, and the ratio to the bare /livez; writes bench/results/<time>-<engine>.json. ~3 minutes.
bench:
	scripts/loadtest/run bench

# The same mix at 50% of the capacity it measures first, for SOAK_SECONDS (default 600): RSS and
# open files must stay flat and nothing may fail.
soak:
	scripts/loadtest/run soak

build:
	swift build

clean:
	rm -rf .build data
