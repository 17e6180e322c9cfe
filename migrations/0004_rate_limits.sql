-- Shared rate-limit budgets (RATE_LIMIT_STORE=postgres): one row per counted request.
-- Admins may override a tenant's per-minute budget (NULL = the tier's).
CREATE TABLE rate_limit_hits (
    bucket TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE INDEX rate_limit_hits_bucket_at ON rate_limit_hits (bucket, at);

ALTER TABLE tenants ADD COLUMN rate_limit_per_minute INTEGER;
