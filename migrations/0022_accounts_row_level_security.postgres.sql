-- Row-level security (see 0018) on the account tables of 0021.
ALTER TABLE user_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON user_sessions FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON user_sessions FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON user_sessions FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON user_sessions FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE account_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON account_tokens FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON account_tokens FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON account_tokens FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON account_tokens FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));
