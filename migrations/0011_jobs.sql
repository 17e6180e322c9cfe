-- The durable job queue: scheduled messages, follow-ups and recurring platform work. Workers
-- claim due rows atomically and hold a lease; a job whose worker died is taken again when its
-- lease expires. tenant_id is NULL for platform jobs.

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT,
    kind TEXT NOT NULL,
    -- JSON object of strings
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    run_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    last_error TEXT,
    locked_by TEXT,
    locked_until TIMESTAMPTZ,
    -- one job per key, ever: a duplicate event or a second instance cannot schedule it twice
    idempotency_key TEXT UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
-- The workers' queue (due pending jobs, expired leases) and the admin counts.
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_tenant ON jobs (tenant_id, kind, status);
