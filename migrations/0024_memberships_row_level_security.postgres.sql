-- Row-level security (see 0018) on memberships.
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON memberships FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON memberships FOR INSERT WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_update ON memberships FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON memberships FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));
