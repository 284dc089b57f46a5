-- Change hints: every committed change of a synced row is announced on its owner's private
-- realtime topic user:<id>. The hint names the row only; clients fetch data through pull, so a
-- missed hint loses nothing. Runs as the owner of the function because hosted Supabase lets
-- only privileged roles write realtime.messages.

CREATE OR REPLACE FUNCTION private.broadcast_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_row jsonb := to_jsonb(NEW);
BEGIN
    PERFORM realtime.send(
        jsonb_build_object(
            'table', tg_table_name,
            'id', coalesce(v_row ->> 'id', v_row ->> 'project_id'),
            'version', (v_row ->> 'version')::bigint,
            'op', lower(tg_op)
        ),
        'change',
        'user:' || (v_row ->> 'user_id'),
        true
    );
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION private.broadcast_change() FROM public, anon, authenticated;

CREATE OR REPLACE TRIGGER t95_broadcast_change
AFTER INSERT OR UPDATE ON public.project_overview
FOR EACH ROW EXECUTE FUNCTION private.broadcast_change();

CREATE OR REPLACE TRIGGER t95_broadcast_change
AFTER INSERT OR UPDATE ON public.scene_drafts
FOR EACH ROW EXECUTE FUNCTION private.broadcast_change();

CREATE OR REPLACE TRIGGER t95_broadcast_change
AFTER INSERT OR UPDATE ON public.screenplays
FOR EACH ROW EXECUTE FUNCTION private.broadcast_change();

CREATE OR REPLACE TRIGGER t95_broadcast_change
AFTER INSERT OR UPDATE ON public.screenplay_sections
FOR EACH ROW EXECUTE FUNCTION private.broadcast_change();

CREATE OR REPLACE TRIGGER t95_broadcast_change
AFTER INSERT OR UPDATE ON public.clip_jobs
FOR EACH ROW EXECUTE FUNCTION private.broadcast_change();
