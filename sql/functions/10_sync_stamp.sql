-- Server-assigned row versions for the synced tables.
--
-- On insert a row gets version 1; on every update that changes data the version goes up by one,
-- field_versions records for each changed column the version that changed it (the basis of
-- field-level conflict detection), and sync_txid records the writing transaction (the basis of
-- the pull cursor). An update that changes nothing leaves the row exactly as it was, so a
-- repeated write is a no-op. The owner of a row never changes.

CREATE OR REPLACE FUNCTION private.stamp_sync_row()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    c_meta constant text[] := ARRAY['version', 'field_versions', 'sync_txid', 'updated_at'];
    v_old jsonb;
    v_new jsonb;
    v_changed jsonb;
BEGIN
    IF tg_op = 'INSERT' THEN
        NEW.version := 1;
        NEW.field_versions := '{}'::jsonb;
        NEW.sync_txid := pg_current_xact_id();
        RETURN NEW;
    END IF;

    IF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        PERFORM private.raise_error('forbidden', 'the owner of a row cannot change');
    END IF;

    v_old := to_jsonb(OLD) - c_meta;
    v_new := to_jsonb(NEW) - c_meta;
    IF v_old = v_new THEN
        RETURN OLD;
    END IF;

    SELECT coalesce(jsonb_object_agg(n.key, OLD.version + 1), '{}'::jsonb)
    INTO v_changed
    FROM jsonb_each(v_new) AS n
    WHERE v_old -> n.key IS DISTINCT FROM n.value;

    NEW.version := OLD.version + 1;
    NEW.field_versions := OLD.field_versions || v_changed;
    NEW.sync_txid := pg_current_xact_id();
    IF tg_table_name = 'project_overview' THEN
        NEW.last_updated := now();
    ELSE
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION private.stamp_sync_row() FROM public;

CREATE OR REPLACE TRIGGER t90_stamp_sync_row
BEFORE INSERT OR UPDATE ON public.project_overview
FOR EACH ROW EXECUTE FUNCTION private.stamp_sync_row();

CREATE OR REPLACE TRIGGER t90_stamp_sync_row
BEFORE INSERT OR UPDATE ON public.scene_drafts
FOR EACH ROW EXECUTE FUNCTION private.stamp_sync_row();

CREATE OR REPLACE TRIGGER t90_stamp_sync_row
BEFORE INSERT OR UPDATE ON public.screenplays
FOR EACH ROW EXECUTE FUNCTION private.stamp_sync_row();

CREATE OR REPLACE TRIGGER t90_stamp_sync_row
BEFORE INSERT OR UPDATE ON public.screenplay_sections
FOR EACH ROW EXECUTE FUNCTION private.stamp_sync_row();

CREATE OR REPLACE TRIGGER t90_stamp_sync_row
BEFORE INSERT OR UPDATE ON public.clip_jobs
FOR EACH ROW EXECUTE FUNCTION private.stamp_sync_row();
