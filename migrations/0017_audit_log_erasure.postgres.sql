-- The audit log stays append-only with two narrow exceptions: an erasure may clear a row's
-- unhashed personal values (nothing else may change), and a tenant's purge, after its grace
-- period, may remove that tenant's chain inside a transaction that names it.
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.personal IS NULL
       AND (to_jsonb(NEW) - 'personal') = (to_jsonb(OLD) - 'personal') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND OLD.chain = current_setting('bookline.purging_tenant', true) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
