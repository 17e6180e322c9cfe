-- PostgreSQL: analytics reads outcome, duration and cost from the (tenant_id, started_at)
-- index itself (an index-only scan), instead of visiting a million heap rows.
CREATE INDEX calls_started_covering ON calls (tenant_id, started_at) INCLUDE (outcome, duration_seconds, cost_minor, currency);
DROP INDEX calls_started;
