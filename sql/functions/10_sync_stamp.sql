-- Server-assigned row versions for the synced tables.
--
-- On insert a row gets version 1; on every update that changes data the version goes up by one,
-- field_versions records for each changed column the version that changed it (the basis of
-- field-level conflict detection), and sync_txid records the writing transaction (the basis of
-- the pull cursor). An update that changes nothing leaves the row exactly as it was, so a
-- repeated write is a no-op. The owner of a row never changes.
--
-- Cost: these run once per written row, so they do no query of their own (the owner check is
-- an expression, not a call: a PERFORM is a query). An insert takes the
-- column defaults (version 1, no field versions, the current transaction), and its trigger only
-- fires, through its WHEN clause, to overwrite values a writer typed in. An update trigger fires
-- only when the row differs from the stored one, and compares the columns of its table one by
-- one in a single expression (each table has its own function naming every data column; a
-- catalog test fails when a column is missing).

-- Forged bookkeeping of an inserted row is replaced by the defaults.
CREATE OR REPLACE FUNCTION private.stamp_sync_insert()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    NEW.version := 1;
    NEW.field_versions := '{}'::jsonb;
    NEW.sync_txid := pg_current_xact_id();
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION private.stamp_project_overview()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v bigint := OLD.version + 1;
    v_changed jsonb;
BEGIN
    IF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        PERFORM private.raise_error('forbidden', 'the owner of a row cannot change');
    END IF;
    v_changed := jsonb_strip_nulls(jsonb_build_object(
        'project_id', CASE WHEN NEW.project_id IS DISTINCT FROM OLD.project_id THEN v END,
        'title', CASE WHEN NEW.title IS DISTINCT FROM OLD.title THEN v END,
        'archived', CASE WHEN NEW.archived IS DISTINCT FROM OLD.archived THEN v END,
        'scene_count', CASE WHEN NEW.scene_count IS DISTINCT FROM OLD.scene_count THEN v END,
        'total_duration',
        CASE WHEN NEW.total_duration IS DISTINCT FROM OLD.total_duration THEN v END,
        'project_created_at',
        CASE WHEN NEW.project_created_at IS DISTINCT FROM OLD.project_created_at THEN v END,
        'last_updated', CASE WHEN NEW.last_updated IS DISTINCT FROM OLD.last_updated THEN v END,
        'deleted_at', CASE WHEN NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN v END,
        'duplicated_from',
        CASE WHEN NEW.duplicated_from IS DISTINCT FROM OLD.duplicated_from THEN v END
    ));
    IF v_changed = '{}'::jsonb THEN
        RETURN OLD;
    END IF;
    NEW.version := v;
    NEW.field_versions := OLD.field_versions || v_changed;
    NEW.sync_txid := pg_current_xact_id();
    NEW.last_updated := now();
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION private.stamp_scene_drafts()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v bigint := OLD.version + 1;
    v_changed jsonb;
BEGIN
    IF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        PERFORM private.raise_error('forbidden', 'the owner of a row cannot change');
    END IF;
    v_changed := jsonb_strip_nulls(jsonb_build_object(
        'id', CASE WHEN NEW.id IS DISTINCT FROM OLD.id THEN v END,
        'project_id', CASE WHEN NEW.project_id IS DISTINCT FROM OLD.project_id THEN v END,
        'order_index', CASE WHEN NEW.order_index IS DISTINCT FROM OLD.order_index THEN v END,
        'prompt_text', CASE WHEN NEW.prompt_text IS DISTINCT FROM OLD.prompt_text THEN v END,
        'duration', CASE WHEN NEW.duration IS DISTINCT FROM OLD.duration THEN v END,
        'scene_type', CASE WHEN NEW.scene_type IS DISTINCT FROM OLD.scene_type THEN v END,
        'shot_type', CASE WHEN NEW.shot_type IS DISTINCT FROM OLD.shot_type THEN v END,
        'archived', CASE WHEN NEW.archived IS DISTINCT FROM OLD.archived THEN v END,
        'deleted_at', CASE WHEN NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN v END,
        'created_at', CASE WHEN NEW.created_at IS DISTINCT FROM OLD.created_at THEN v END
    ));
    IF v_changed = '{}'::jsonb THEN
        RETURN OLD;
    END IF;
    NEW.version := v;
    NEW.field_versions := OLD.field_versions || v_changed;
    NEW.sync_txid := pg_current_xact_id();
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION private.stamp_screenplays()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v bigint := OLD.version + 1;
    v_changed jsonb;
BEGIN
    IF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        PERFORM private.raise_error('forbidden', 'the owner of a row cannot change');
    END IF;
    v_changed := jsonb_strip_nulls(jsonb_build_object(
        'id', CASE WHEN NEW.id IS DISTINCT FROM OLD.id THEN v END,
        'title', CASE WHEN NEW.title IS DISTINCT FROM OLD.title THEN v END,
        'content', CASE WHEN NEW.content IS DISTINCT FROM OLD.content THEN v END,
        'archived', CASE WHEN NEW.archived IS DISTINCT FROM OLD.archived THEN v END,
        'deleted_at', CASE WHEN NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN v END,
        'created_at', CASE WHEN NEW.created_at IS DISTINCT FROM OLD.created_at THEN v END
    ));
    IF v_changed = '{}'::jsonb THEN
        RETURN OLD;
    END IF;
    NEW.version := v;
    NEW.field_versions := OLD.field_versions || v_changed;
    NEW.sync_txid := pg_current_xact_id();
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION private.stamp_screenplay_sections()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v bigint := OLD.version + 1;
    v_changed jsonb;
BEGIN
    IF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        PERFORM private.raise_error('forbidden', 'the owner of a row cannot change');
    END IF;
    v_changed := jsonb_strip_nulls(jsonb_build_object(
        'id', CASE WHEN NEW.id IS DISTINCT FROM OLD.id THEN v END,
        'screenplay_id',
        CASE WHEN NEW.screenplay_id IS DISTINCT FROM OLD.screenplay_id THEN v END,
        'heading', CASE WHEN NEW.heading IS DISTINCT FROM OLD.heading THEN v END,
        'content', CASE WHEN NEW.content IS DISTINCT FROM OLD.content THEN v END,
        'order_index', CASE WHEN NEW.order_index IS DISTINCT FROM OLD.order_index THEN v END,
        'archived', CASE WHEN NEW.archived IS DISTINCT FROM OLD.archived THEN v END,
        'deleted_at', CASE WHEN NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN v END,
        'created_at', CASE WHEN NEW.created_at IS DISTINCT FROM OLD.created_at THEN v END
    ));
    IF v_changed = '{}'::jsonb THEN
        RETURN OLD;
    END IF;
    NEW.version := v;
    NEW.field_versions := OLD.field_versions || v_changed;
    NEW.sync_txid := pg_current_xact_id();
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION private.stamp_clip_jobs()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v bigint := OLD.version + 1;
    v_changed jsonb;
BEGIN
    IF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        PERFORM private.raise_error('forbidden', 'the owner of a row cannot change');
    END IF;
    v_changed := jsonb_strip_nulls(jsonb_build_object(
        'id', CASE WHEN NEW.id IS DISTINCT FROM OLD.id THEN v END,
        'user_key', CASE WHEN NEW.user_key IS DISTINCT FROM OLD.user_key THEN v END,
        'project_id', CASE WHEN NEW.project_id IS DISTINCT FROM OLD.project_id THEN v END,
        'scene_draft_id',
        CASE WHEN NEW.scene_draft_id IS DISTINCT FROM OLD.scene_draft_id THEN v END,
        'prompt', CASE WHEN NEW.prompt IS DISTINCT FROM OLD.prompt THEN v END,
        'status', CASE WHEN NEW.status IS DISTINCT FROM OLD.status THEN v END,
        'progress', CASE WHEN NEW.progress IS DISTINCT FROM OLD.progress THEN v END,
        'charge', CASE WHEN NEW.charge IS DISTINCT FROM OLD.charge THEN v END,
        'attempts', CASE WHEN NEW.attempts IS DISTINCT FROM OLD.attempts THEN v END,
        'provider_job_id',
        CASE WHEN NEW.provider_job_id IS DISTINCT FROM OLD.provider_job_id THEN v END,
        'submitted_at', CASE WHEN NEW.submitted_at IS DISTINCT FROM OLD.submitted_at THEN v END,
        'started_at', CASE WHEN NEW.started_at IS DISTINCT FROM OLD.started_at THEN v END,
        'completed_at', CASE WHEN NEW.completed_at IS DISTINCT FROM OLD.completed_at THEN v END,
        'canceled_at', CASE WHEN NEW.canceled_at IS DISTINCT FROM OLD.canceled_at THEN v END,
        'refunded_at', CASE WHEN NEW.refunded_at IS DISTINCT FROM OLD.refunded_at THEN v END,
        'download_url', CASE WHEN NEW.download_url IS DISTINCT FROM OLD.download_url THEN v END,
        'error_message',
        CASE WHEN NEW.error_message IS DISTINCT FROM OLD.error_message THEN v END,
        'deleted_at', CASE WHEN NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN v END,
        'created_at', CASE WHEN NEW.created_at IS DISTINCT FROM OLD.created_at THEN v END
    ));
    IF v_changed = '{}'::jsonb THEN
        RETURN OLD;
    END IF;
    NEW.version := v;
    NEW.field_versions := OLD.field_versions || v_changed;
    NEW.sync_txid := pg_current_xact_id();
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION private.stamp_sync_insert() FROM public;
REVOKE ALL ON FUNCTION private.stamp_project_overview() FROM public;
REVOKE ALL ON FUNCTION private.stamp_scene_drafts() FROM public;
REVOKE ALL ON FUNCTION private.stamp_screenplays() FROM public;
REVOKE ALL ON FUNCTION private.stamp_screenplay_sections() FROM public;
REVOKE ALL ON FUNCTION private.stamp_clip_jobs() FROM public;

CREATE OR REPLACE TRIGGER t89_stamp_sync_insert
BEFORE INSERT ON public.project_overview
FOR EACH ROW
WHEN (
    NEW.version IS DISTINCT FROM 1
    OR NEW.field_versions IS DISTINCT FROM '{}'::jsonb
    OR NEW.sync_txid IS DISTINCT FROM pg_current_xact_id()
)
EXECUTE FUNCTION private.stamp_sync_insert();

CREATE OR REPLACE TRIGGER t90_stamp_sync_row
BEFORE UPDATE ON public.project_overview
FOR EACH ROW
WHEN (OLD.* IS DISTINCT FROM NEW.*)
EXECUTE FUNCTION private.stamp_project_overview();

CREATE OR REPLACE TRIGGER t89_stamp_sync_insert
BEFORE INSERT ON public.scene_drafts
FOR EACH ROW
WHEN (
    NEW.version IS DISTINCT FROM 1
    OR NEW.field_versions IS DISTINCT FROM '{}'::jsonb
    OR NEW.sync_txid IS DISTINCT FROM pg_current_xact_id()
)
EXECUTE FUNCTION private.stamp_sync_insert();

CREATE OR REPLACE TRIGGER t90_stamp_sync_row
BEFORE UPDATE ON public.scene_drafts
FOR EACH ROW
WHEN (OLD.* IS DISTINCT FROM NEW.*)
EXECUTE FUNCTION private.stamp_scene_drafts();

CREATE OR REPLACE TRIGGER t89_stamp_sync_insert
BEFORE INSERT ON public.screenplays
FOR EACH ROW
WHEN (
    NEW.version IS DISTINCT FROM 1
    OR NEW.field_versions IS DISTINCT FROM '{}'::jsonb
    OR NEW.sync_txid IS DISTINCT FROM pg_current_xact_id()
)
EXECUTE FUNCTION private.stamp_sync_insert();

CREATE OR REPLACE TRIGGER t90_stamp_sync_row
BEFORE UPDATE ON public.screenplays
FOR EACH ROW
WHEN (OLD.* IS DISTINCT FROM NEW.*)
EXECUTE FUNCTION private.stamp_screenplays();

CREATE OR REPLACE TRIGGER t89_stamp_sync_insert
BEFORE INSERT ON public.screenplay_sections
FOR EACH ROW
WHEN (
    NEW.version IS DISTINCT FROM 1
    OR NEW.field_versions IS DISTINCT FROM '{}'::jsonb
    OR NEW.sync_txid IS DISTINCT FROM pg_current_xact_id()
)
EXECUTE FUNCTION private.stamp_sync_insert();

CREATE OR REPLACE TRIGGER t90_stamp_sync_row
BEFORE UPDATE ON public.screenplay_sections
FOR EACH ROW
WHEN (OLD.* IS DISTINCT FROM NEW.*)
EXECUTE FUNCTION private.stamp_screenplay_sections();

CREATE OR REPLACE TRIGGER t89_stamp_sync_insert
BEFORE INSERT ON public.clip_jobs
FOR EACH ROW
WHEN (
    NEW.version IS DISTINCT FROM 1
    OR NEW.field_versions IS DISTINCT FROM '{}'::jsonb
    OR NEW.sync_txid IS DISTINCT FROM pg_current_xact_id()
)
EXECUTE FUNCTION private.stamp_sync_insert();

CREATE OR REPLACE TRIGGER t90_stamp_sync_row
BEFORE UPDATE ON public.clip_jobs
FOR EACH ROW
WHEN (OLD.* IS DISTINCT FROM NEW.*)
EXECUTE FUNCTION private.stamp_clip_jobs();
