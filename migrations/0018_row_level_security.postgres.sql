-- Row-level security: the second wall between tenants, behind the application's own tenant
-- filter. A session that has set app.tenant_id (Bookline does for every request resolved to a
-- tenant) sees and changes only that tenant's rows; a session with it unset or empty (platform
-- work: workers, admin, migrations) sees every row. FORCE makes the policies bind the tables'
-- owner too; a superuser or a BYPASSRLS role still bypasses them, so run Bookline as neither
-- (/health reports whether the wall is enforced). The setting is read once per statement
-- (a scalar subquery becomes an InitPlan), not once per row.

CREATE FUNCTION bookline_tenant() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.tenant_id', true), '') $$;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON tenants FOR SELECT USING ((SELECT bookline_tenant()) IN ('', id));
CREATE POLICY tenant_wall_insert ON tenants FOR INSERT WITH CHECK ((SELECT bookline_tenant()) IN ('', id));
CREATE POLICY tenant_wall_update ON tenants FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', id));
CREATE POLICY tenant_wall_delete ON tenants FOR DELETE USING ((SELECT bookline_tenant()) IN ('', id));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON users FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON users FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON users FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON users FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON api_keys FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON api_keys FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON api_keys FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON api_keys FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON refresh_tokens FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON refresh_tokens FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON refresh_tokens FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON refresh_tokens FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON idempotency_keys FOR SELECT USING ((SELECT bookline_tenant()) IN ('', CASE WHEN scope LIKE 'tenant:%' THEN substr(scope, 8) END));
CREATE POLICY tenant_wall_insert ON idempotency_keys FOR INSERT WITH CHECK ((SELECT bookline_tenant()) IN ('', CASE WHEN scope LIKE 'tenant:%' THEN substr(scope, 8) END));
CREATE POLICY tenant_wall_update ON idempotency_keys FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', CASE WHEN scope LIKE 'tenant:%' THEN substr(scope, 8) END)) WITH CHECK ((SELECT bookline_tenant()) IN ('', CASE WHEN scope LIKE 'tenant:%' THEN substr(scope, 8) END));
CREATE POLICY tenant_wall_delete ON idempotency_keys FOR DELETE USING ((SELECT bookline_tenant()) IN ('', CASE WHEN scope LIKE 'tenant:%' THEN substr(scope, 8) END));

ALTER TABLE leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE leads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON leads FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON leads FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON leads FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON leads FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE lead_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON lead_settings FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON lead_settings FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON lead_settings FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON lead_settings FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE lead_imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_imports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON lead_imports FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON lead_imports FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON lead_imports FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON lead_imports FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE opt_outs ENABLE ROW LEVEL SECURITY;
ALTER TABLE opt_outs FORCE ROW LEVEL SECURITY;
-- The platform-wide list (tenant_id 'global') applies to every tenant, so every tenant reads it.
CREATE POLICY tenant_wall_select ON opt_outs FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id = 'global');
CREATE POLICY tenant_wall_insert ON opt_outs FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON opt_outs FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON opt_outs FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON events FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON events FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON events FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON events FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON messages FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON messages FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON messages FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON messages FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE messaging_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE messaging_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON messaging_settings FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON messaging_settings FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON messaging_settings FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON messaging_settings FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE message_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_templates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON message_templates FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON message_templates FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON message_templates FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON message_templates FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE calls FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON calls FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON calls FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON calls FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON calls FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE call_webhook_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE call_webhook_receipts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON call_webhook_receipts FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON call_webhook_receipts FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON call_webhook_receipts FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON call_webhook_receipts FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE call_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE call_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON call_settings FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON call_settings FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON call_settings FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON call_settings FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE error_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE error_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON error_logs FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON error_logs FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON error_logs FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON error_logs FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON jobs FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON jobs FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON jobs FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON jobs FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE services ENABLE ROW LEVEL SECURITY;
ALTER TABLE services FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON services FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON services FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON services FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON services FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE opening_hours ENABLE ROW LEVEL SECURITY;
ALTER TABLE opening_hours FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON opening_hours FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON opening_hours FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON opening_hours FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON opening_hours FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE closed_dates ENABLE ROW LEVEL SECURITY;
ALTER TABLE closed_dates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON closed_dates FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON closed_dates FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON closed_dates FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON closed_dates FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE booking_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON booking_settings FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON booking_settings FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON booking_settings FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON booking_settings FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON appointments FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON appointments FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON appointments FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON appointments FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE appointment_slots ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointment_slots FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON appointment_slots FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON appointment_slots FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON appointment_slots FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON appointment_slots FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE calendar_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE calendar_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON calendar_settings FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON calendar_settings FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON calendar_settings FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON calendar_settings FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE followup_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE followup_overrides FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON followup_overrides FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON followup_overrides FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON followup_overrides FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON followup_overrides FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE retention_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON retention_settings FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON retention_settings FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON retention_settings FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON retention_settings FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE erasure_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE erasure_receipts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON erasure_receipts FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON erasure_receipts FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON erasure_receipts FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON erasure_receipts FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE subject_exports ENABLE ROW LEVEL SECURITY;
ALTER TABLE subject_exports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON subject_exports FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON subject_exports FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON subject_exports FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON subject_exports FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall_select ON audit_log FOR SELECT USING ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_insert ON audit_log FOR INSERT WITH CHECK (((SELECT bookline_tenant()) IN ('', tenant_id) OR tenant_id IS NULL));
CREATE POLICY tenant_wall_update ON audit_log FOR UPDATE USING ((SELECT bookline_tenant()) IN ('', tenant_id)) WITH CHECK ((SELECT bookline_tenant()) IN ('', tenant_id));
CREATE POLICY tenant_wall_delete ON audit_log FOR DELETE USING ((SELECT bookline_tenant()) IN ('', tenant_id));
