-- Personal values an audit row mentions (a lead's phone or email), kept outside the hashed
-- columns so an erasure can clear them without breaking the hash chain; the hashed details
-- carry a keyed-hash reference in their place.
ALTER TABLE audit_log ADD COLUMN personal TEXT;

-- How long a tenant keeps leads nobody contacted and messages (`bookline retention run`).
CREATE TABLE retention_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    uncontacted_lead_days INTEGER NOT NULL,
    message_days INTEGER NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- One receipt per erased data subject. The request hash is keyed (the phone and email are
-- gone), so a repeated request finds its receipt without the number being stored.
CREATE TABLE erasure_receipts (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- JSON object: rows deleted or anonymised per table
    counts TEXT NOT NULL,
    requested_by TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX erasure_receipts_request ON erasure_receipts (tenant_id, request_hash);

-- Data-subject exports too large to answer at once run as jobs; the subject and the finished
-- document are personal data, so both are sealed, and the document expires.
CREATE TABLE subject_exports (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    subject_sealed TEXT NOT NULL,
    document_sealed TEXT,
    error TEXT,
    requested_by TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
