-- Workspaces: one login (users row, unique email) may be a member of several tenants, a role in
-- each (memberships). users.tenant_id is the account's home: the tenant it was made in, whose
-- export and purge it belongs to (a purge re-homes a person who is a member elsewhere).
-- last_tenant_id is where the person worked last; sign-in opens that workspace.
ALTER TABLE users ADD COLUMN last_tenant_id TEXT REFERENCES tenants (id) ON DELETE SET NULL;

-- An owner's or admin's invitation of a person, by email, with a role. The link carries a
-- random token of which only the SHA-256 is kept; it is spent once, expires after 7 days and
-- can be revoked or resent (a resend replaces the token).
CREATE TABLE invitations (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ,
    accepted_by TEXT,
    revoked_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX invitations_email ON invitations (tenant_id, email_key);
