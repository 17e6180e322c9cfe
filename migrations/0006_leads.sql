-- Leads, opt-outs, domain events and import runs. Every table leads its key with tenant_id.

CREATE TABLE leads (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT,
    phone_e164 TEXT NOT NULL,
    phone_type TEXT NOT NULL,
    email TEXT,
    source TEXT,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'contacted', 'interested', 'callback', 'booked',
                                                        'not_interested', 'opted_out', 'invalid')),
    -- JSON array of strings
    tags TEXT NOT NULL DEFAULT '[]',
    notes TEXT,
    -- JSON object of scalar values
    custom_fields TEXT NOT NULL DEFAULT '{}',
    -- lower-cased name, phone and email, for ?q= search on both engines
    search_text TEXT NOT NULL DEFAULT '',
    last_contacted_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX leads_phone ON leads (tenant_id, phone_e164);
CREATE INDEX leads_status ON leads (tenant_id, status, id);
CREATE INDEX leads_source ON leads (tenant_id, source, id);
-- No index on created_at: ids are UUIDv7 minted at creation, so a created range is an id range.

-- Opt-outs: tenant_id is the tenant, or 'global' for the platform-wide list. Looked up by a
-- keyed hash of the E.164 number, so an erased person's number can stay suppressed as a hash.
CREATE TABLE opt_outs (
    tenant_id TEXT NOT NULL,
    phone_hash TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    phone_e164 TEXT,
    reason TEXT NOT NULL,
    source TEXT,
    note TEXT,
    created_by TEXT,
    updated_by TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    -- NULL while the opt-out is in force; set when it is withdrawn (with a reason)
    deactivated_at TIMESTAMPTZ,
    deactivation_reason TEXT,
    PRIMARY KEY (tenant_id, phone_hash)
);

-- Domain events, in a gap-free per-tenant sequence, written in the same transaction as the
-- change; the live dashboard streams them.
CREATE TABLE events (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    type TEXT NOT NULL,
    subject_type TEXT,
    subject_id TEXT,
    payload TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX events_subject ON events (tenant_id, subject_id);

-- One row per import: progress is committed with each batch, so a crash leaves a record of
-- exactly how far the import got.
CREATE TABLE lead_imports (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
    format TEXT NOT NULL,
    background INTEGER NOT NULL DEFAULT 0,
    total_rows INTEGER NOT NULL,
    processed_rows INTEGER NOT NULL DEFAULT 0,
    -- JSON: counts by outcome, and the first per-row outcomes
    summary TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    created_by TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);

-- Per-tenant duplicate rules for imports (no row = the defaults).
CREATE TABLE lead_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    duplicate_lookback_days INTEGER NOT NULL,
    duplicate_skip_days INTEGER NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
