-- Messaging: the outbox (and inbound replies), per-tenant provider settings and template overrides.

CREATE TABLE messages (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    lead_id TEXT,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    to_address TEXT NOT NULL,
    from_address TEXT,
    template TEXT,
    subject TEXT,
    body TEXT NOT NULL,
    body_html TEXT,
    -- outbound: queued -> sending -> sent -> delivered | failed | undelivered; simulated when no
    -- provider is configured; blocked when a check refused it. inbound: received.
    status TEXT NOT NULL,
    reason TEXT,
    segments INTEGER,
    encoding TEXT,
    provider TEXT,
    provider_id TEXT,
    error_code TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    send_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    sent_at TIMESTAMPTZ,
    delivered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- The sender's queue, and status callbacks finding a message by the provider's id.
CREATE INDEX messages_due ON messages (status, send_at);
CREATE UNIQUE INDEX messages_provider_id ON messages (provider, provider_id);
CREATE INDEX messages_lead ON messages (tenant_id, lead_id);

-- A tenant's own provider settings; secrets are AES-GCM sealed with the master key.
CREATE TABLE messaging_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    twilio_account_sid TEXT,
    twilio_auth_token_sealed TEXT,
    twilio_auth_token_last4 TEXT,
    twilio_from_number TEXT,
    twilio_messaging_service_sid TEXT,
    smtp_url_sealed TEXT,
    smtp_password_last4 TEXT,
    email_from TEXT,
    help_text TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Tenant overrides of the default templates in tenants/templates/.
CREATE TABLE message_templates (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    sms TEXT,
    email_subject TEXT,
    email_text TEXT,
    email_html TEXT,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
