-- Calls from the voice-AI provider (or recorded through the API), the webhook deliveries
-- already handled (replays change nothing), and each tenant's call and analytics settings.

CREATE TABLE calls (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    -- vapi for webhook calls, api for calls recorded through POST /api/calls
    provider TEXT NOT NULL,
    provider_call_id TEXT NOT NULL,
    lead_id TEXT,
    phone_e164 TEXT,
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    -- in_progress until the end-of-call report (or a recorded call) says it ended
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'ended')),
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    duration_seconds INTEGER,
    cost_minor INTEGER,
    currency TEXT,
    ended_reason TEXT,
    -- 1 when Bookline knows the ended reason; unknown ones are kept raw and counted
    ended_reason_known INTEGER NOT NULL DEFAULT 1,
    outcome TEXT CHECK (outcome IN ('booked', 'interested', 'callback', 'not_interested', 'no_answer', 'voicemail',
                                    'busy', 'failed', 'completed')),
    summary TEXT,
    recording_url TEXT,
    -- JSON object
    structured_data TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX calls_provider_id ON calls (tenant_id, provider, provider_call_id);
-- Analytics ranges and the call list's time filter.
CREATE INDEX calls_started ON calls (tenant_id, started_at);
CREATE INDEX calls_lead ON calls (tenant_id, lead_id);
-- Unknown ended reasons are rare: analytics lists them without scanning every call.
CREATE INDEX calls_unknown_reason ON calls (tenant_id, started_at) WHERE ended_reason_known = 0;

-- One row per (call, event type) handled: a replayed webhook finds its row and does nothing.
CREATE TABLE call_webhook_receipts (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider_call_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, provider_call_id, event_type)
);

-- The voice webhook's secret (AES-GCM sealed with the master key) and the figures analytics
-- needs from the business: its currency and the average value of a booked appointment.
CREATE TABLE call_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    webhook_secret_sealed TEXT,
    webhook_secret_last4 TEXT,
    currency TEXT NOT NULL DEFAULT 'GBP',
    average_deal_value_minor INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL
);
