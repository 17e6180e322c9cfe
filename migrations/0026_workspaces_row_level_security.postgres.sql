-- Row-level security (see 0018) for workspaces: a tenant sees the people who are its members
-- (their home may be another tenant), and its own invitations.
DROP POLICY tenant_wall_select ON users;
CREATE POLICY tenant_wall_select ON users FOR SELECT USING (
    (SELECT bookline_tenant()) IN ('', tenant_id)
    OR EXISTS (SELECT 1 FROM memberships WHERE memberships.user_id = users.id AND memberships.tenant_id = (SELECT bookline_tenant()))
);
DROP POLICY tenant_wall_update ON users;
CREATE POLICY tenant_wall_update ON users FOR UPDATE USING (
    (SELECT bookline_tenant()) IN ('', tenant_id)
    OR EXISTS (SELECT 1 FROM memberships WHERE memberships.user_id = users.id AND memberships.tenant_id = (SELECT bookline_tenant()))
);

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON invitations FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON invitations FOR INSERT WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_update ON invitations FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON invitations FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));
