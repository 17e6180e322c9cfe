-- Account lifecycle: signed-in sessions, single-use account tokens (password reset, email
-- verification, the MFA step of a sign-in), verified email addresses and TOTP second factors.

-- One row per sign-in; its id is the refresh-token family of that sign-in, and access tokens
-- carry it as `sid`, so revoking a session ends its access tokens at once too.
CREATE TABLE user_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    user_agent TEXT,
    ip TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX user_sessions_user ON user_sessions (user_id, created_at);
CREATE INDEX user_sessions_tenant ON user_sessions (tenant_id);

-- Random tokens sent by email or handed to the client between the two steps of a sign-in.
-- Only their SHA-256 is kept; each is spent once (used_at) and expires.
CREATE TABLE account_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verification', 'mfa_challenge')),
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);
CREATE INDEX account_tokens_tenant ON account_tokens (tenant_id);

ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ;
-- The TOTP secret, AES-GCM sealed with BOOKLINE_MASTER_KEY; set at enrolment, in force once
-- totp_enabled_at is set (the first code confirmed it).
ALTER TABLE users ADD COLUMN totp_secret_sealed TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at TIMESTAMPTZ;
-- The newest TOTP step a code was accepted for: a code is never accepted twice.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
-- SHA-256 hashes of the unused recovery codes, space-separated.
ALTER TABLE users ADD COLUMN mfa_recovery_hashes TEXT;
ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMPTZ;

-- An owner may require a second factor of everyone who signs in to the tenant.
ALTER TABLE tenants ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0;

-- Accounts that existed before verification are taken as verified: their owners signed up
-- when no link was sent, and holding their customers' mail now would break running businesses.
UPDATE users SET email_verified_at = created_at WHERE email_verified_at IS NULL;
