-- Errors the platform records (unhandled errors, provider failures, webhook rejections) and
-- the alerts they raised. tenant_id is NULL for platform-wide errors.

CREATE TABLE error_logs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT,
    service TEXT NOT NULL,
    error_type TEXT NOT NULL,
    -- scrubbed of secrets before it is stored
    message TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('warning', 'error', 'critical')),
    -- JSON object of strings
    context TEXT NOT NULL DEFAULT '{}',
    request_id TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX error_logs_created ON error_logs (created_at);
CREATE INDEX error_logs_tenant ON error_logs (tenant_id, created_at);
