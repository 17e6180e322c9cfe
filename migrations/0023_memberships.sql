-- Memberships: a person's role in a tenant (owner, admin, member, viewer). For people of a
-- tenant this is the authority on their role; users.role keeps 'owner' or 'member' only for
-- its CHECK and says nothing more. Platform staff have no membership.
CREATE TABLE memberships (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- Every tenant user keeps their role and their login.
INSERT INTO memberships (tenant_id, user_id, role, created_at, updated_at)
SELECT tenant_id, id, role, created_at, updated_at FROM users WHERE tenant_id IS NOT NULL;
