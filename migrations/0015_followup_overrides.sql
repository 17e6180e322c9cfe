-- A tenant's own follow-up sequence for an outcome, replacing the one in tenants/followups.yaml.
CREATE TABLE followup_overrides (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    outcome TEXT NOT NULL,
    -- JSON array of {"channel": "sms" | "email" | "call", "after": "2h"}
    steps TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, outcome)
);
