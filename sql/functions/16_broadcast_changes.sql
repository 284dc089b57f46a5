-- Change hints: every committed change of a synced row is announced on its owner's private
-- realtime topic user:<id>. The hint names a row only; clients fetch data through pull, so a
-- missed hint loses nothing. One hint per user per transaction: statement-level triggers
-- collect the distinct owners of the statement's rows (transition tables); the first statement
-- of a transaction that changes a user's rows sends the hint, {table, id, version, op} of one
-- of its rows (the newest); later statements send nothing, but when they change that same row
-- they update the message to its new version and op (the messages a transaction sent are
-- remembered in a transaction-local setting). Runs as the owner of the functions because hosted Supabase lets only
-- privileged roles write realtime.messages.

DROP FUNCTION IF EXISTS private.broadcast_change();
DROP FUNCTION IF EXISTS private.send_change_hint(uuid, jsonb);

-- Sends the user's hint, or, when this transaction already sent one, follows its row.
-- Like realtime.send, a failure to broadcast never fails the caller's transaction. Called only
-- by the trigger below (so it runs as that function's owner) with the messages this transaction
-- sent so far; returns them with this one added. Executable by nobody else.
CREATE OR REPLACE FUNCTION private.send_change_hint(p_user uuid, p_payload jsonb, p_sent jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_topic text := 'user:' || p_user::text;
    v_id uuid := (p_sent ->> p_user::text)::uuid;
BEGIN
    IF v_id IS NOT NULL THEN
        -- Sent already: it names the transaction's first changed row; follow that row.
        UPDATE realtime.messages AS m SET payload = p_payload
        WHERE m.id = v_id AND m.topic = v_topic
            AND m.payload ->> 'table' = p_payload ->> 'table'
            AND m.payload ->> 'id' = p_payload ->> 'id';
        RETURN p_sent;
    END IF;
    BEGIN
        PERFORM set_config('realtime.topic', v_topic, true);
        INSERT INTO realtime.messages (payload, event, topic, private, extension)
        VALUES (p_payload, 'change', v_topic, true, 'broadcast')
        RETURNING id INTO v_id;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'ErrorSendingBroadcastMessage: %', sqlerrm;
        RETURN p_sent;
    END;
    RETURN p_sent || jsonb_build_object(p_user::text, v_id);
END;
$$;

-- The statement trigger: one hint per owner of the changed rows. The rows are read with static
-- queries (planned once per trigger and kept for the session), one per id column: tg_argv[0].
CREATE OR REPLACE FUNCTION private.broadcast_changes()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_rows refcursor;
    v_hint record;
    v_before text := coalesce(nullif(current_setting('directorstudio.change_hints', true), ''),
        '{}');
    v_sent jsonb := v_before::jsonb;
BEGIN
    IF tg_argv[0] = 'project_id' THEN
        OPEN v_rows FOR
            SELECT DISTINCT ON (c.user_id) c.user_id, c.project_id::text AS id, c.version
            FROM changed_rows AS c ORDER BY c.user_id, c.version DESC, c.project_id DESC;
    ELSE
        OPEN v_rows FOR
            SELECT DISTINCT ON (c.user_id) c.user_id, c.id::text AS id, c.version
            FROM changed_rows AS c ORDER BY c.user_id, c.version DESC, c.id DESC;
    END IF;
    LOOP
        FETCH v_rows INTO v_hint;
        EXIT WHEN NOT found;
        v_sent := private.send_change_hint(
            v_hint.user_id,
            jsonb_build_object(
                'table', tg_table_name, 'id', v_hint.id, 'version', v_hint.version,
                'op', lower(tg_op)),
            v_sent);
    END LOOP;
    CLOSE v_rows;
    IF v_sent::text <> v_before THEN
        PERFORM set_config('directorstudio.change_hints', v_sent::text, true);
    END IF;
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION private.send_change_hint(uuid, jsonb, jsonb) FROM public, anon, authenticated;
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
