-- PostgreSQL only: refuse settings that are not a JSON object, so a bad write fails loudly
-- instead of breaking every later read. (SQLite builds without JSON checks in CHECK are common.)
ALTER TABLE tenants
    ADD CONSTRAINT tenants_settings_is_object CHECK (jsonb_typeof(settings::jsonb) = 'object');
