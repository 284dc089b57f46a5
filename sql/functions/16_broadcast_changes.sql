-- Change hints: every committed change of a synced row is announced on its owner's private
-- realtime topic user:<id>. The hint names a row only; clients fetch data through pull, so a
-- missed hint loses nothing. One hint per user per transaction: statement-level triggers
-- collect the distinct owners of the statement's rows (transition tables); the first statement
-- of a transaction that changes a user's rows sends the hint, later ones only update that
-- message to name their change (the messages a transaction sent are remembered in a
-- transaction-local setting). The hint is {table, id, version, op} of the statement's newest
-- row of that user. Runs as the owner of the functions because hosted Supabase lets only
-- privileged roles write realtime.messages.

DROP FUNCTION IF EXISTS private.broadcast_change();

-- Sends (or, when this transaction already sent one to the user, updates) the user's hint.
-- Like realtime.send, a failure to broadcast never fails the caller's transaction. Called only
-- by the trigger below (so it runs as that function's owner); executable by nobody else.
CREATE OR REPLACE FUNCTION private.send_change_hint(p_user uuid, p_payload jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_topic text := 'user:' || p_user::text;
    v_sent jsonb := coalesce(
        nullif(current_setting('directorstudio.change_hints', true), ''), '{}'
    )::jsonb;
    v_id uuid := (v_sent ->> p_user::text)::uuid;
BEGIN
    IF v_id IS NOT NULL THEN
        UPDATE realtime.messages AS m SET payload = p_payload
        WHERE m.id = v_id AND m.topic = v_topic;
        IF found THEN
            RETURN;
        END IF;
    END IF;
    BEGIN
        PERFORM set_config('realtime.topic', v_topic, true);
        INSERT INTO realtime.messages (payload, event, topic, private, extension)
        VALUES (p_payload, 'change', v_topic, true, 'broadcast')
        RETURNING id INTO v_id;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'ErrorSendingBroadcastMessage: %', sqlerrm;
        RETURN;
    END;
    PERFORM set_config(
        'directorstudio.change_hints',
        (v_sent || jsonb_build_object(p_user::text, v_id))::text, true);
END;
$$;

-- The statement trigger: one hint per owner of the changed rows.
CREATE OR REPLACE FUNCTION private.broadcast_changes()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_hint record;
BEGIN
    FOR v_hint IN EXECUTE format(
        'SELECT DISTINCT ON (c.user_id) c.user_id, c.%I::text AS id, c.version'
        ' FROM changed_rows AS c ORDER BY c.user_id, c.version DESC, c.%I DESC',
        tg_argv[0], tg_argv[0])
    LOOP
        PERFORM private.send_change_hint(
            v_hint.user_id,
            jsonb_build_object(
                'table', tg_table_name, 'id', v_hint.id, 'version', v_hint.version,
                'op', lower(tg_op)));
    END LOOP;
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION private.send_change_hint(uuid, jsonb) FROM public, anon, authenticated;
REVOKE ALL ON FUNCTION private.broadcast_changes() FROM public, anon, authenticated;

CREATE OR REPLACE TRIGGER t95_broadcast_insert
AFTER INSERT ON public.project_overview
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION private.broadcast_changes('project_id');

CREATE OR REPLACE TRIGGER t95_broadcast_update
AFTER UPDATE ON public.project_overview
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION private.broadcast_changes('project_id');

CREATE OR REPLACE TRIGGER t95_broadcast_insert
AFTER INSERT ON public.scene_drafts
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION private.broadcast_changes('id');

CREATE OR REPLACE TRIGGER t95_broadcast_update
AFTER UPDATE ON public.scene_drafts
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION private.broadcast_changes('id');

CREATE OR REPLACE TRIGGER t95_broadcast_insert
AFTER INSERT ON public.screenplays
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION private.broadcast_changes('id');

CREATE OR REPLACE TRIGGER t95_broadcast_update
AFTER UPDATE ON public.screenplays
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION private.broadcast_changes('id');

CREATE OR REPLACE TRIGGER t95_broadcast_insert
AFTER INSERT ON public.screenplay_sections
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION private.broadcast_changes('id');

CREATE OR REPLACE TRIGGER t95_broadcast_update
AFTER UPDATE ON public.screenplay_sections
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION private.broadcast_changes('id');

CREATE OR REPLACE TRIGGER t95_broadcast_insert
AFTER INSERT ON public.clip_jobs
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION private.broadcast_changes('id');

CREATE OR REPLACE TRIGGER t95_broadcast_update
AFTER UPDATE ON public.clip_jobs
REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION private.broadcast_changes('id');
