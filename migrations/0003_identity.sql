-- Identity: users (tenant owners and members; platform admins and compliance staff have no
-- tenant), API keys, JWT signing keys, refresh tokens, idempotency records and the audit log.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    -- lowercased email, unique across the platform: one login per address
    email_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member', 'admin', 'compliance')),
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMPTZ,
    last_login_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE api_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- SHA-256 of the whole key; the key itself is never stored
    key_hash TEXT NOT NULL UNIQUE,
    display_prefix TEXT NOT NULL,
    last_four TEXT NOT NULL,
    environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    -- space-separated scopes
    scopes TEXT NOT NULL,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    created_by TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    -- base64url raw public key, published in /.well-known/jwks.json
    public_key TEXT NOT NULL,
    -- AES-GCM sealed with BOOKLINE_MASTER_KEY, base64
    private_key_sealed TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    -- set when a newer key takes over signing; still verifies until tokens expire
    retired_at TIMESTAMPTZ
);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE idempotency_keys (
    -- tenant id, or 'public:' + endpoint for unauthenticated endpoints
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    -- response body, AES-GCM sealed (it may hold a key shown once)
    body_sealed TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    tenant_id TEXT,
    -- the hash chain this row extends: the tenant id, or 'platform' for platform actions
    chain TEXT NOT NULL,
    seq INTEGER NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    ip TEXT,
    user_agent TEXT,
    request_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_log_chain ON audit_log (chain, seq);
CREATE INDEX audit_log_time ON audit_log (tenant_id, created_at);
