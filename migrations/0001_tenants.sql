-- Tenants: one row per business. Every other tenant table leads its key with tenant_id,
-- which is this id. Ids are UUIDv7 text; times are TIMESTAMPTZ (seconds since 1970 on SQLite).
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    business_name TEXT NOT NULL,
    industry TEXT NOT NULL DEFAULT 'generic',
    tier TEXT NOT NULL DEFAULT 'free',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    timezone TEXT NOT NULL DEFAULT 'Europe/London',
    -- JSON object (TEXT so the same queries run on both engines).
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);

CREATE INDEX tenants_status_tier ON tenants (status, tier);
