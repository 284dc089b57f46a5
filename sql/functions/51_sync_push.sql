-- Push: a client's batch of mutations, applied in order, each exactly once.
--
-- Every mutation is dispatched to the contract function that owns its rule (or, for screenplays,
-- to the small upsert/delete helpers below), running as the caller so RLS and every check apply
-- exactly as to a direct call. Each mutation runs in its own subtransaction; when it applies, its
-- result is recorded in private.sync_mutations under (client_id, mutation_id) in that same
-- subtransaction, so a batch replayed after a lost acknowledgement answers "duplicate" from the
-- record and applies nothing again. Errors never abort the batch: a version conflict becomes
-- outcome "conflict" (with the current row), any other error outcome "rejected" (with its code).
-- Conflicts and rejections change nothing and are not recorded. See docs/sync.md.

-- A caught error's documented code and whether it is transient come from the error table
-- (private.error_code and private.error_is_transient in 00_errors.sql); the copies of that
-- mapping this file once defined are dropped.
DROP FUNCTION IF EXISTS private.sync_error_code(text, text);
DROP FUNCTION IF EXISTS private.sync_is_transient(text);

-- The recorded outcome of a client's mutation, NULL when it was never applied. A mutation id
-- recorded under another user is forbidden.
DROP FUNCTION IF EXISTS private.sync_recorded_mutation(uuid, bigint);
CREATE OR REPLACE FUNCTION private.sync_recorded_mutation(p_client_id uuid, p_mutation_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_owner uuid;
    v_outcome jsonb;
BEGIN
    SELECT m.user_id, m.outcome
    INTO v_owner, v_outcome
    FROM private.sync_mutations AS m
    WHERE m.client_id = p_client_id AND m.mutation_id = p_mutation_id;
    IF FOUND AND v_owner <> v_user THEN
        PERFORM private.raise_error(
            'forbidden', 'this mutation id belongs to another user''s client');
    END IF;
    RETURN v_outcome;
END;
$$;

-- Records an applied mutation for the signed-in user (called inside the mutation's own
-- subtransaction, so the record and the effect commit or roll back together).
DROP FUNCTION IF EXISTS private.sync_record_mutation(uuid, bigint, jsonb);
CREATE OR REPLACE FUNCTION private.sync_record_mutation(
    p_client_id uuid, p_mutation_id bigint, p_outcome jsonb
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    INSERT INTO private.sync_mutations (user_id, client_id, mutation_id, outcome)
    VALUES (private.require_user(), p_client_id, p_mutation_id, p_outcome);
END;
$$;

-- The keys of p_values that changed on the server after p_base_version (per field_versions) to
-- a value different from the one being written.
DROP FUNCTION IF EXISTS private.sync_conflicting_fields(jsonb, bigint, jsonb);
CREATE OR REPLACE FUNCTION private.sync_conflicting_fields(
    p_current jsonb, p_base_version bigint, p_values jsonb
)
RETURNS text[]
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT coalesce(array_agg(v.key ORDER BY v.key), '{}')
    FROM jsonb_each(p_values) AS v
    WHERE p_base_version IS NOT NULL
      AND coalesce((p_current -> 'field_versions' ->> v.key)::bigint, 0) > p_base_version
      AND p_current ->> v.key IS DISTINCT FROM p_values ->> v.key
$$;

-- Rejects values that are not an object of the given columns.
DROP FUNCTION IF EXISTS private.sync_check_columns(jsonb, text[]);
CREATE OR REPLACE FUNCTION private.sync_check_columns(p_values jsonb, p_columns text[])
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    v_unknown text;
BEGIN
    IF jsonb_typeof(p_values) IS DISTINCT FROM 'object' THEN
        PERFORM private.raise_error('invalid_input', 'args must be an object of column values');
    END IF;
    SELECT k INTO v_unknown FROM jsonb_object_keys(p_values) AS k
    WHERE k <> ALL (p_columns) LIMIT 1;
    IF v_unknown IS NOT NULL THEN
        PERFORM private.raise_error(
            'invalid_input', format('column %s cannot be written through sync', v_unknown));
    END IF;
END;
$$;

-- Screenplays: insert, or update the given columns of the caller's screenplay. These helpers run
-- as the caller under RLS and also filter on the owner themselves, so a caller that bypasses RLS
-- (service_role acting for a user) still touches only that user's rows.
DROP FUNCTION IF EXISTS private.sync_upsert_screenplay(uuid, bigint, jsonb);
CREATE OR REPLACE FUNCTION private.sync_upsert_screenplay(
    p_id uuid, p_base_version bigint, p_values jsonb
)
RETURNS public.screenplays
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_row public.screenplays;
    v_fields text[];
BEGIN
    PERFORM private.sync_check_columns(p_values, ARRAY['title', 'content', 'archived']);
    SELECT * INTO v_row FROM public.screenplays AS s
    WHERE s.id = p_id AND s.user_id = (SELECT v_user)
    FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO public.screenplays (id, user_id, title, content, archived)
        VALUES (
            p_id, v_user, p_values ->> 'title', p_values ->> 'content',
            coalesce((p_values ->> 'archived')::boolean, false))
        ON CONFLICT (id) DO NOTHING
        RETURNING * INTO v_row;
        IF v_row.id IS NOT NULL THEN
            RETURN v_row;
        END IF;
        -- Someone inserted it meanwhile: ours (then update it) or not (then it is not found).
        SELECT * INTO v_row FROM public.screenplays AS s
        WHERE s.id = p_id AND s.user_id = (SELECT v_user)
        FOR UPDATE;
        IF NOT FOUND THEN
            PERFORM private.raise_error('not_found', 'no such screenplay');
        END IF;
    END IF;
    IF v_row.deleted_at IS NOT NULL THEN
        PERFORM private.raise_error('not_found', 'the screenplay was deleted');
    END IF;
    v_fields := private.sync_conflicting_fields(to_jsonb(v_row), p_base_version, p_values);
    IF cardinality(v_fields) > 0 THEN
        PERFORM private.raise_error(
            'version_conflict', 'the screenplay changed since the base version',
            jsonb_build_object('current', to_jsonb(v_row), 'fields', to_jsonb(v_fields)));
    END IF;
    UPDATE public.screenplays AS s
    SET title = CASE WHEN p_values ? 'title' THEN p_values ->> 'title' ELSE s.title END,
        content = CASE WHEN p_values ? 'content' THEN p_values ->> 'content' ELSE s.content END,
        archived = CASE
            WHEN p_values ? 'archived' THEN (p_values ->> 'archived')::boolean ELSE s.archived
        END
    WHERE s.id = p_id AND s.user_id = (SELECT v_user)
    RETURNING * INTO v_row;
    RETURN v_row;
END;
$$;

-- Screenplay sections: insert, or update the given columns of the caller's section.
DROP FUNCTION IF EXISTS private.sync_upsert_screenplay_section(uuid, bigint, jsonb);
CREATE OR REPLACE FUNCTION private.sync_upsert_screenplay_section(
    p_id uuid, p_base_version bigint, p_values jsonb
)
RETURNS public.screenplay_sections
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_row public.screenplay_sections;
    v_fields text[];
BEGIN
    PERFORM private.sync_check_columns(
        p_values, ARRAY['screenplay_id', 'heading', 'content', 'order_index', 'archived']);
    SELECT * INTO v_row FROM public.screenplay_sections AS s
    WHERE s.id = p_id AND s.user_id = (SELECT v_user)
    FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO public.screenplay_sections (
            id, user_id, screenplay_id, heading, content, order_index, archived
        )
        VALUES (
            p_id, v_user, (p_values ->> 'screenplay_id')::uuid, p_values ->> 'heading',
            p_values ->> 'content', (p_values ->> 'order_index')::integer,
            coalesce((p_values ->> 'archived')::boolean, false))
        ON CONFLICT (id) DO NOTHING
        RETURNING * INTO v_row;
        IF v_row.id IS NOT NULL THEN
            RETURN v_row;
        END IF;
        SELECT * INTO v_row FROM public.screenplay_sections AS s
        WHERE s.id = p_id AND s.user_id = (SELECT v_user)
        FOR UPDATE;
        IF NOT FOUND THEN
            PERFORM private.raise_error('not_found', 'no such screenplay section');
        END IF;
    END IF;
    IF v_row.deleted_at IS NOT NULL THEN
        PERFORM private.raise_error('not_found', 'the screenplay section was deleted');
    END IF;
    v_fields := private.sync_conflicting_fields(to_jsonb(v_row), p_base_version, p_values);
    IF cardinality(v_fields) > 0 THEN
        PERFORM private.raise_error(
            'version_conflict', 'the screenplay section changed since the base version',
            jsonb_build_object('current', to_jsonb(v_row), 'fields', to_jsonb(v_fields)));
    END IF;
    UPDATE public.screenplay_sections AS s
    SET screenplay_id = CASE
            WHEN p_values ? 'screenplay_id' THEN (p_values ->> 'screenplay_id')::uuid
            ELSE s.screenplay_id
        END,
        heading = CASE WHEN p_values ? 'heading' THEN p_values ->> 'heading' ELSE s.heading END,
        content = CASE WHEN p_values ? 'content' THEN p_values ->> 'content' ELSE s.content END,
        order_index = CASE
            WHEN p_values ? 'order_index' THEN (p_values ->> 'order_index')::integer
            ELSE s.order_index
        END,
        archived = CASE
            WHEN p_values ? 'archived' THEN (p_values ->> 'archived')::boolean ELSE s.archived
        END
    WHERE s.id = p_id AND s.user_id = (SELECT v_user)
    RETURNING * INTO v_row;
    RETURN v_row;
END;
$$;

-- Soft delete (tombstone) of a screenplay, with its sections, or of one section.
DROP FUNCTION IF EXISTS private.sync_soft_delete_screenplay(text, uuid);
CREATE OR REPLACE FUNCTION private.sync_soft_delete_screenplay(p_table text, p_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_row jsonb;
BEGIN
    IF p_table = 'screenplays' THEN
        UPDATE public.screenplays AS s
        SET archived = true, deleted_at = coalesce(s.deleted_at, now())
        WHERE s.id = p_id AND s.user_id = (SELECT v_user)
        RETURNING to_jsonb(s.*) INTO v_row;
        IF v_row IS NOT NULL THEN
            UPDATE public.screenplay_sections AS x
            SET archived = true, deleted_at = now()
            WHERE x.screenplay_id = p_id AND x.user_id = (SELECT v_user) AND x.deleted_at IS NULL;
        END IF;
    ELSE
        UPDATE public.screenplay_sections AS x
        SET archived = true, deleted_at = coalesce(x.deleted_at, now())
        WHERE x.id = p_id AND x.user_id = (SELECT v_user)
        RETURNING to_jsonb(x.*) INTO v_row;
    END IF;
    IF v_row IS NULL THEN
        PERFORM private.raise_error('not_found', 'no such row');
    END IF;
    RETURN v_row;
END;
$$;

-- Applies one mutation through the function that owns its rule; returns {"row": ...} (and, for
-- a reorder, "rows": the reordered scenes).
DROP FUNCTION IF EXISTS private.sync_apply_mutation(text, text, uuid, bigint, jsonb);
CREATE OR REPLACE FUNCTION private.sync_apply_mutation(
    p_table text, p_op text, p_id uuid, p_base_version bigint, p_args jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_row jsonb;
    v_rows jsonb;
    v_project uuid;
BEGIN
    IF jsonb_typeof(p_args) IS DISTINCT FROM 'object' THEN
        PERFORM private.raise_error('invalid_input', 'args must be an object');
    END IF;

    IF p_table = 'project_overview' AND p_op = 'upsert' THEN
        SELECT to_jsonb(r) INTO v_row
        FROM public.upsert_project_overview(
            p_project_id => p_id, p_title => p_args ->> 'title',
            p_base_version => p_base_version) AS r;
    ELSIF p_table = 'project_overview' AND p_op = 'rename' THEN
        SELECT to_jsonb(r) INTO v_row
        FROM public.rename_project(
            p_project_id => p_id, p_title => p_args ->> 'title',
            p_base_version => p_base_version) AS r;
    ELSIF p_table = 'project_overview' AND p_op = 'archive' THEN
        SELECT to_jsonb(r) INTO v_row FROM public.archive_project(p_project_id => p_id) AS r;
    ELSIF p_table = 'project_overview' AND p_op = 'duplicate' THEN
        SELECT to_jsonb(r) INTO v_row
        FROM public.duplicate_project(
            p_source_project_id => (p_args ->> 'source_project_id')::uuid,
            p_new_project_id => p_id, p_title => p_args ->> 'title') AS r;
    ELSIF p_table = 'scene_drafts' AND p_op = 'create' THEN
        SELECT to_jsonb(r) INTO v_row
        FROM public.create_scene_draft(
            p_id => p_id,
            p_project_id => (p_args ->> 'project_id')::uuid,
            p_prompt_text => p_args ->> 'prompt_text',
            p_duration => (p_args ->> 'duration')::double precision,
            p_scene_type => p_args ->> 'scene_type',
            p_shot_type => p_args ->> 'shot_type',
            p_order_index => (p_args ->> 'order_index')::integer) AS r;
    ELSIF p_table = 'scene_drafts' AND p_op = 'update' THEN
        SELECT to_jsonb(r) INTO v_row
        FROM public.update_scene_draft(
            p_id => p_id, p_base_version => p_base_version, p_patch => p_args -> 'patch') AS r;
    ELSIF p_table = 'scene_drafts' AND p_op = 'delete' THEN
        SELECT to_jsonb(r) INTO v_row FROM public.soft_delete_scene_draft(p_id => p_id) AS r;
    ELSIF p_table = 'scene_drafts' AND p_op = 'reorder' THEN
        IF jsonb_typeof(p_args -> 'ordered_ids') IS DISTINCT FROM 'array' THEN
            PERFORM private.raise_error('invalid_input', 'ordered_ids must be an array of ids');
        END IF;
        v_project := coalesce((p_args ->> 'project_id')::uuid, p_id);
        SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.order_index), '[]'::jsonb)
        INTO v_rows
        FROM public.reorder_scene_drafts(
            p_project_id => v_project,
            p_ordered_ids => ARRAY(
                SELECT e::uuid FROM jsonb_array_elements_text(p_args -> 'ordered_ids') AS e
            )) AS r;
        SELECT to_jsonb(p) INTO v_row
        FROM public.project_overview AS p
        WHERE p.project_id = v_project AND p.user_id = (SELECT auth.uid());
        RETURN jsonb_build_object('row', v_row, 'rows', v_rows);
    ELSIF p_table = 'clip_jobs' AND p_op = 'enqueue' THEN
        SELECT to_jsonb(r) INTO v_row
        FROM public.enqueue_clip_job(
            p_job_id => p_id,
            p_user_key => coalesce(p_args ->> 'user_key', auth.uid()::text),
            p_prompt => p_args ->> 'prompt',
            p_project_id => (p_args ->> 'project_id')::uuid,
            p_scene_draft_id => (p_args ->> 'scene_draft_id')::uuid) AS r;
    ELSIF p_table = 'clip_jobs' AND p_op = 'cancel' THEN
        SELECT to_jsonb(r) INTO v_row FROM public.cancel_clip_job(p_job_id => p_id) AS r;
    ELSIF p_table = 'continuity_logs' AND p_op = 'resolve_conflict' THEN
        SELECT to_jsonb(r) INTO v_row
        FROM public.record_conflict_resolution(
            p_id => p_id,
            p_table => p_args ->> 'table',
            p_row_id => (p_args ->> 'row_id')::uuid,
            p_resolution => p_args ->> 'resolution',
            p_fields => p_args -> 'fields') AS r;
    ELSIF p_table = 'screenplays' AND p_op = 'upsert' THEN
        v_row := to_jsonb(private.sync_upsert_screenplay(p_id, p_base_version, p_args));
    ELSIF p_table = 'screenplay_sections' AND p_op = 'upsert' THEN
        v_row := to_jsonb(private.sync_upsert_screenplay_section(p_id, p_base_version, p_args));
    ELSIF p_table IN ('screenplays', 'screenplay_sections') AND p_op = 'delete' THEN
        v_row := private.sync_soft_delete_screenplay(p_table, p_id);
    ELSE
        PERFORM private.raise_error(
            'invalid_input', format('unknown mutation %s on %s', p_op, p_table));
    END IF;
    RETURN jsonb_build_object('row', v_row);
END;
$$;

-- The caller's current row (under RLS), for a conflict whose error carries none.
DROP FUNCTION IF EXISTS private.sync_current_row(text, uuid);
CREATE OR REPLACE FUNCTION private.sync_current_row(p_table text, p_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_row jsonb;
BEGIN
    IF p_table NOT IN (
        'project_overview', 'scene_drafts', 'screenplays', 'screenplay_sections', 'clip_jobs'
    ) THEN
        RETURN NULL;
    END IF;
    EXECUTE format(
        'SELECT to_jsonb(t) FROM public.%I AS t WHERE t.%I = $1 AND t.user_id = $2',
        p_table, CASE WHEN p_table = 'project_overview' THEN 'project_id' ELSE 'id' END)
    INTO v_row
    USING p_id, auth.uid();
    RETURN v_row;
END;
$$;

-- The base version of a mutation that follows the client's earlier mutation of the same row:
-- the version that mutation produced, when it was applied (in this batch or an earlier one);
-- otherwise the base version the client sent. So consecutive offline edits of one row never
-- conflict with each other, while an edit from elsewhere in between still does.
DROP FUNCTION IF EXISTS private.sync_rebased_version(uuid, bigint, text, uuid, bigint);
CREATE OR REPLACE FUNCTION private.sync_rebased_version(
    p_client_id uuid,
    p_base_mutation_id bigint,
    p_table text,
    p_id uuid,
    p_base_version bigint
)
RETURNS bigint
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT coalesce(
        (
            SELECT greatest(
                coalesce(p_base_version, 0), (r.outcome -> 'row' ->> 'version')::bigint
            )
            FROM (
                SELECT private.sync_recorded_mutation(p_client_id, p_base_mutation_id) AS outcome
            ) AS r
            WHERE r.outcome ->> 'table' = p_table
                AND (r.outcome ->> 'id')::uuid = p_id
                AND r.outcome -> 'row' ->> 'version' IS NOT NULL
        ),
        p_base_version
    )
$$;

-- The result of a mutation whose application raised a (non-transient) error: a version
-- conflict with the current row and the fields, or a rejection with the error's code.
DROP FUNCTION IF EXISTS private.sync_error_result(bigint, text, uuid, text, text, text);
CREATE OR REPLACE FUNCTION private.sync_error_result(
    p_mutation_id bigint, p_table text, p_id uuid,
    p_code text, p_message text, p_detail text
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_detail jsonb;
BEGIN
    IF p_detail IS NOT NULL AND p_detail <> '' THEN
        BEGIN
            v_detail := p_detail::jsonb;
        EXCEPTION WHEN OTHERS THEN
            v_detail := to_jsonb(p_detail);
        END;
    END IF;
    IF p_code = 'version_conflict' THEN
        RETURN jsonb_build_object(
            'mutation_id', p_mutation_id,
            'outcome', 'conflict',
            'current', coalesce(v_detail -> 'current', private.sync_current_row(p_table, p_id)),
            'fields', coalesce(v_detail -> 'fields', '[]'::jsonb));
    END IF;
    RETURN jsonb_build_object(
        'mutation_id', p_mutation_id,
        'outcome', 'rejected',
        'error', jsonb_strip_nulls(jsonb_build_object(
            'code', p_code, 'message', p_message, 'detail', v_detail)));
END;
$$;

-- One mutation on its own, in its own subtransaction: the path of every mutation the set-based
-- steps (52_sync_push_plan.sql, 53_sync_push_sets.sql) do not take. Checks its shape, rebases
-- it, answers from the record when it was applied before, else applies and records it.
DROP FUNCTION IF EXISTS private.sync_push_one(uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_push_one(p_client_id uuid, p_mutation jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_mutation_id bigint := (p_mutation ->> 'mutation_id')::bigint;
    v_table text;
    v_op text;
    v_id uuid;
    v_base bigint;
    v_recorded jsonb;
    v_applied jsonb;
    v_state text;
    v_message text;
    v_hint text;
    v_detail text;
    v_code text;
BEGIN
    IF jsonb_typeof(p_mutation -> 'table') IS DISTINCT FROM 'string'
        OR jsonb_typeof(p_mutation -> 'op') IS DISTINCT FROM 'string'
        OR jsonb_typeof(p_mutation -> 'id') IS DISTINCT FROM 'string'
        OR jsonb_typeof(p_mutation -> 'base_version') NOT IN ('number', 'null')
        OR jsonb_typeof(p_mutation -> 'args') NOT IN ('object', 'null') THEN
        PERFORM private.raise_error(
            'invalid_input',
            'a mutation needs table, op, id, and optionally base_version and args');
    END IF;
    v_table := p_mutation ->> 'table';
    v_op := p_mutation ->> 'op';
    v_id := (p_mutation ->> 'id')::uuid;
    v_base := (p_mutation ->> 'base_version')::bigint;
    IF jsonb_typeof(p_mutation -> 'base_mutation_id') = 'number' THEN
        v_base := private.sync_rebased_version(
            p_client_id, (p_mutation ->> 'base_mutation_id')::bigint, v_table, v_id, v_base);
    END IF;
    v_recorded := private.sync_recorded_mutation(p_client_id, v_mutation_id);
    IF v_recorded IS NOT NULL THEN
        RETURN private.sync_duplicate_result(v_mutation_id, v_table, v_op, v_id, v_recorded);
    END IF;
    v_applied := private.sync_apply_mutation(
        v_table, v_op, v_id, v_base,
        coalesce(nullif(p_mutation -> 'args', 'null'::jsonb), '{}'::jsonb));
    PERFORM private.sync_record_mutation(
        p_client_id, v_mutation_id,
        jsonb_build_object('table', v_table, 'op', v_op, 'id', v_id) || v_applied);
    RETURN jsonb_build_object('mutation_id', v_mutation_id, 'outcome', 'applied') || v_applied;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS
        v_state = RETURNED_SQLSTATE,
        v_message = MESSAGE_TEXT,
        v_hint = PG_EXCEPTION_HINT,
        v_detail = PG_EXCEPTION_DETAIL;
    -- Transient errors (serialization failures, deadlocks, lack of resources, cancellation,
    -- lost connections) say nothing about the mutation itself: the whole push fails and the
    -- client retries it.
    v_code := private.error_code(v_state, v_hint);
    IF private.error_is_transient(v_code) THEN
        RAISE;
    END IF;
    RETURN private.sync_error_result(v_mutation_id, v_table, v_id, v_code, v_message, v_detail);
END;
$$;

-- The answer to a mutation recorded before: its recorded result, or id_conflict when the
-- record is of another table, op or row.
DROP FUNCTION IF EXISTS private.sync_duplicate_result(bigint, text, text, uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_duplicate_result(
    p_mutation_id bigint, p_table text, p_op text, p_id uuid, p_recorded jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF p_recorded ->> 'table' IS DISTINCT FROM p_table
        OR p_recorded ->> 'op' IS DISTINCT FROM p_op
        OR (p_recorded ->> 'id')::uuid IS DISTINCT FROM p_id THEN
        PERFORM private.raise_error(
            'id_conflict', 'this mutation id was used for a different mutation');
    END IF;
    RETURN jsonb_build_object('mutation_id', p_mutation_id, 'outcome', 'duplicate')
        || (p_recorded - ARRAY['table', 'op', 'id']);
END;
$$;

-- Rejects a batch that is not an array of at most 500 mutations (the client's MAX_PUSH_BATCH) with
-- non-negative, strictly increasing integer mutation ids (nothing of it is applied).
DROP FUNCTION IF EXISTS private.sync_check_batch(uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_check_batch(p_client_id uuid, p_mutations jsonb)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    v_bad boolean;
BEGIN
    IF p_client_id IS NULL OR jsonb_typeof(p_mutations) IS DISTINCT FROM 'array' THEN
        PERFORM private.raise_error(
            'invalid_input', 'a push needs a client id and an array of mutations');
    END IF;
    IF jsonb_array_length(p_mutations) > 500 THEN
        PERFORM private.raise_error('invalid_input', 'at most 500 mutations per push');
    END IF;
    IF EXISTS (
        SELECT FROM jsonb_array_elements(p_mutations) AS e (m)
        WHERE jsonb_typeof(e.m -> 'mutation_id') IS DISTINCT FROM 'number'
            OR e.m ->> 'mutation_id' !~ '^-?[0-9]{1,19}$'
    ) THEN
        PERFORM private.raise_error('invalid_input', 'every mutation needs an integer mutation_id');
    END IF;
    SELECT bool_or(e.id < 0 OR e.id <= e.previous) INTO v_bad
    FROM (
        SELECT
            (m ->> 'mutation_id')::bigint AS id,
            lag((m ->> 'mutation_id')::bigint) OVER (ORDER BY n) AS previous
        FROM jsonb_array_elements(p_mutations) WITH ORDINALITY AS x (m, n)
    ) AS e;
    IF v_bad THEN
        PERFORM private.raise_error(
            'invalid_input', 'mutation ids must be non-negative and strictly increasing');
    END IF;
END;
$$;

-- Applies a batch of more than one mutation: its mutations are planned into waves
-- (private.sync_plan_batch) and each wave is applied one (table, op) group at a time by a
-- set-based step (53_sync_push_sets.sql); what a step leaves, and every other kind of mutation,
-- goes through private.sync_push_one. Its statements (and those of every step it calls) run on
-- generic plans: planned once per session instead of for every batch's values, which cost more
-- than the statements themselves. Their lookups are by key (ids, or arrays of ids), so a
-- generic plan reads the same rows through the same indexes as a custom one.
DROP FUNCTION IF EXISTS private.sync_push_batch(uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_push_batch(p_client_id uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_group record;
    -- Each mutation's result (by its ord), put together once at the end.
    v_ords integer[] := '{}'::integer[];
    v_results jsonb[] := '{}'::jsonb[];
BEGIN
    -- The plan is complete before the first group applies (its function runs to the end on
    -- the first fetch, and the groups are sorted).
    FOR v_group IN
        SELECT w.wave, w.rank,
            jsonb_agg(jsonb_build_object('ord', w.ord, 'mutation', p_mutations -> (w.ord - 1))
                ORDER BY w.ord) FILTER (WHERE w.result IS NULL) AS mutations,
            array_agg(w.ord) FILTER (WHERE w.result IS NOT NULL) AS recorded_ords,
            array_agg(w.result) FILTER (WHERE w.result IS NOT NULL) AS recorded
        FROM private.sync_plan_waves(p_client_id, p_mutations) AS w
        GROUP BY 1, 2
        ORDER BY 1, 2
    LOOP
        IF v_group.recorded IS NOT NULL THEN
            v_ords := v_ords || v_group.recorded_ords;
            v_results := v_results || v_group.recorded;
        ELSE
            SELECT v_ords || coalesce(array_agg(g.ord), '{}'),
                v_results || coalesce(array_agg(g.result), '{}')
            INTO v_ords, v_results
            FROM private.sync_push_group(p_client_id, v_group.rank, v_group.mutations) AS g;
        END IF;
    END LOOP;
    RETURN jsonb_build_object('results', (
        SELECT coalesce(jsonb_agg(r.result ORDER BY n.n), '[]'::jsonb)
        FROM generate_series(1, jsonb_array_length(p_mutations)) AS n (n)
        LEFT JOIN unnest(v_ords, v_results) AS r (ord, result) ON r.ord = n.n));
END;
$$;

-- Applies a batch: checked whole first (a bad batch applies nothing), then one mutation on its
-- own, or more through private.sync_push_batch.
-- Every row it reads it finds by key, and the plans of its statements (and of the foreign-key
-- checks its writes run) are kept for the session: one made while the statistics said a table
-- was empty would be a sequential scan, reading the whole table at every later push until the
-- next ANALYZE. With sequential scans off while it plans, they read by index at any size.
DROP FUNCTION IF EXISTS public.sync_push(uuid, jsonb);
CREATE OR REPLACE FUNCTION public.sync_push(p_client_id uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
SET enable_seqscan = off
AS $$
BEGIN
    PERFORM private.require_user();
    PERFORM private.sync_check_batch(p_client_id, p_mutations);
    -- Batches of one client are applied one at a time, so a replay racing the original waits
    -- for it and then finds its records.
    PERFORM pg_advisory_xact_lock(hashtextextended('sync_push:' || p_client_id::text, 0));

    -- A single mutation needs no plan.
    IF jsonb_array_length(p_mutations) = 1 THEN
        RETURN jsonb_build_object('results', jsonb_build_array(
            private.sync_push_one(p_client_id, p_mutations -> 0)));
    END IF;
    RETURN private.sync_push_batch(p_client_id, p_mutations);
END;
$$;

REVOKE ALL ON FUNCTION private.sync_recorded_mutation(uuid, bigint) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_record_mutation(uuid, bigint, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_conflicting_fields(jsonb, bigint, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_check_columns(jsonb, text[]) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_upsert_screenplay(uuid, bigint, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_upsert_screenplay_section(uuid, bigint, jsonb)
FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_soft_delete_screenplay(text, uuid) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_apply_mutation(text, text, uuid, bigint, jsonb)
FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_current_row(text, uuid) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_rebased_version(uuid, bigint, text, uuid, bigint)
FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_error_result(bigint, text, uuid, text, text, text)
FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_push_one(uuid, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_duplicate_result(bigint, text, text, uuid, jsonb)
FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_check_batch(uuid, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_push_batch(uuid, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION public.sync_push(uuid, jsonb) FROM public, anon;

GRANT EXECUTE ON FUNCTION private.sync_recorded_mutation(uuid, bigint)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_record_mutation(uuid, bigint, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_conflicting_fields(jsonb, bigint, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_check_columns(jsonb, text[])
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_upsert_screenplay(uuid, bigint, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_upsert_screenplay_section(uuid, bigint, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_soft_delete_screenplay(text, uuid)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_apply_mutation(text, text, uuid, bigint, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_current_row(text, uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_rebased_version(uuid, bigint, text, uuid, bigint)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_error_result(bigint, text, uuid, text, text, text)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_push_one(uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_duplicate_result(bigint, text, text, uuid, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_check_batch(uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_push_batch(uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.sync_push(uuid, jsonb) TO authenticated, service_role;
