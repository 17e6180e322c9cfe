-- A tenant's connected calendar (Google, through a service account whose credentials are
-- AES-GCM sealed) and, per appointment, the event that mirrors it there.
CREATE TABLE calendar_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    provider TEXT NOT NULL DEFAULT 'google',
    calendar_id TEXT NOT NULL,
    client_email TEXT NOT NULL,
    credentials_sealed TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE appointments ADD COLUMN calendar_event_id TEXT;
