-- Push, applying: one group of a wave (mutations of one rank, see 52_sync_push_plan.sql) at a
-- time. Project upserts, scene creates at the end, scene updates and scene deletes are applied
-- in sets: one statement for the group, with the rules of upsert_project_overview,
-- create_scene_draft, update_scene_draft and soft_delete_scene_draft. A set step takes only
-- the mutations it can show are valid and writes under the same row locks (the projects first,
-- then their scenes); every other mutation, and the whole group if its statement fails, goes
-- through private.sync_push_one, which calls the contract function and answers its errors.
-- Set steps return (ord, result, record) rows for the mutations they took: the result, and for
-- an applied one its record ({table, op, id} and the result's row, and rows), both made from
-- the row's JSON made once (not taken back out of the result, a walk of every row again); the
-- group records them in the same subtransaction. (They were once named
-- sync_upsert_projects, sync_create_scenes, ... and returned one {ord: result} object, later
-- (ord, result) rows as sync_apply_project_upserts, ...; those are dropped.)

-- The groups' mutations (their ords) whose scene fields (a create's args, an update's patch:
-- p_path) are valid where given: prompt_text a string of at most 10000 characters, duration a
-- number in (0, 600], scene_type and shot_type strings of at most 100 characters or null.
DROP FUNCTION IF EXISTS private.sync_scene_fields_ok(jsonb);
DROP FUNCTION IF EXISTS private.sync_applied(jsonb, jsonb);
DROP FUNCTION IF EXISTS private.sync_valid_scene_fields(jsonb, text []);
CREATE OR REPLACE FUNCTION private.sync_valid_scene_fields(p_group jsonb, p_path text [])
RETURNS SETOF text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    RETURN QUERY
    SELECT e ->> 'ord'
    FROM jsonb_array_elements(p_group) AS e
    CROSS JOIN LATERAL (SELECT e -> 'mutation' #> p_path AS f) AS x
    WHERE jsonb_typeof(x.f) = 'object'
        AND (NOT x.f ? 'prompt_text' OR (
            jsonb_typeof(x.f -> 'prompt_text') = 'string'
            AND char_length(x.f ->> 'prompt_text') <= 10000))
        AND (NOT x.f ? 'duration' OR (
            jsonb_typeof(x.f -> 'duration') = 'number'
            AND (x.f ->> 'duration')::numeric > 0
            AND (x.f ->> 'duration')::numeric <= 600))
        AND coalesce(jsonb_typeof(x.f -> 'scene_type'), 'null') IN ('string', 'null')
        AND coalesce(char_length(x.f ->> 'scene_type'), 0) <= 100
        AND coalesce(jsonb_typeof(x.f -> 'shot_type'), 'null') IN ('string', 'null')
        AND coalesce(char_length(x.f ->> 'shot_type'), 0) <= 100;
END;
$$;

-- New projects: one INSERT. Existing ids (the caller's, to retitle, or another user's) are
-- left to the contract function.
DROP FUNCTION IF EXISTS private.sync_upsert_projects(jsonb);
DROP FUNCTION IF EXISTS private.sync_apply_project_upserts(jsonb);
CREATE OR REPLACE FUNCTION private.sync_set_project_upserts(p_group jsonb)
RETURNS TABLE (ord integer, result jsonb, record jsonb)
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    RETURN QUERY
    WITH m AS (
        SELECT e ->> 'ord' AS ord, e -> 'mutation' AS mu,
            (e -> 'mutation' ->> 'id')::uuid AS id,
            e -> 'mutation' -> 'args' ->> 'title' AS title
        FROM jsonb_array_elements(p_group) AS e
        WHERE coalesce((e -> 'mutation' ->> 'base_version')::bigint, 1) >= 1
            -- A base mutation id is checked (it may be another user's) on the contract path.
            AND coalesce(jsonb_typeof(e -> 'mutation' -> 'base_mutation_id'), 'null') <> 'number'
    ),
    inserted AS (
        INSERT INTO public.project_overview AS p (project_id, user_id, title)
        SELECT m.id, (SELECT private.require_user()), coalesce(m.title, 'Untitled project')
        FROM m
        WHERE m.title IS NULL
            OR (char_length(m.title) BETWEEN 1 AND 200 AND btrim(m.title) <> '')
        ORDER BY m.ord::integer
        ON CONFLICT (project_id) DO NOTHING
        RETURNING p.*
    )
    SELECT m.ord::integer,
        jsonb_build_object(
            'mutation_id', (m.mu ->> 'mutation_id')::bigint, 'outcome', 'applied',
            'row', r.row),
        jsonb_build_object(
            'table', m.mu ->> 'table', 'op', m.mu ->> 'op', 'id', m.mu ->> 'id', 'row', r.row)
    FROM inserted AS i INNER JOIN m ON m.id = i.project_id
    -- OFFSET 0: the row's JSON is made once for both (inlined, it would be made twice).
    CROSS JOIN LATERAL (SELECT to_jsonb(i) AS row OFFSET 0) AS r;
END;
$$;

-- Locks the caller's live projects among p_ids, in id order (the order every writer of a
-- project's rows takes its lock first).
DROP FUNCTION IF EXISTS private.sync_lock_projects(uuid []);
CREATE OR REPLACE FUNCTION private.sync_lock_projects(p_ids uuid [])
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- One lookup by key per project (a lateral subquery is never flattened into a hash or a
    -- bitmap over the user's rows), taken in id order.
    PERFORM FROM (SELECT DISTINCT k.id FROM unnest(p_ids) AS k (id) ORDER BY k.id) AS k
    CROSS JOIN LATERAL (
        SELECT FROM public.project_overview AS p
        WHERE p.project_id = k.id AND p.user_id = (SELECT auth.uid()) AND p.deleted_at IS NULL
        FOR UPDATE
    ) AS l;
END;
$$;

-- The index after the last live scene of each of the caller's live projects among p_projects,
-- by project id (looked up once per project). Projects that are not the caller's live ones
-- are absent.
CREATE OR REPLACE FUNCTION private.sync_scene_ends(p_projects uuid [])
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    RETURN (
        SELECT jsonb_object_agg(k.id::text, e.next)
        FROM unnest(p_projects) AS k (id)
        CROSS JOIN LATERAL (
            SELECT (SELECT coalesce(max(s.order_index) + 1, 0) FROM public.scene_drafts AS s
                    WHERE s.project_id = p.project_id AND s.user_id = (SELECT auth.uid())
                        AND NOT s.archived AND s.deleted_at IS NULL) AS next
            FROM public.project_overview AS p
            WHERE p.project_id = k.id
                AND p.user_id = (SELECT auth.uid()) AND p.deleted_at IS NULL
            OFFSET 0
        ) AS e);
END;
$$;

-- Scene creates at the end of their projects: one INSERT, order indexes continuing after each
-- project's highest live index in batch order. A create at a given index is one at the end when
-- that index is at or after the end (create_scene_draft clamps it there); from the first create
-- of a project whose index is before the end, that project's creates are left to the contract
-- function (in batch order, after the ones placed here), which shifts the scenes after it. Ids
-- already in use (replays, other users' rows) and projects that are not the caller's live ones
-- are left to the contract function too.
DROP FUNCTION IF EXISTS private.sync_create_scenes(jsonb);
DROP FUNCTION IF EXISTS private.sync_apply_scene_creates(jsonb);
CREATE OR REPLACE FUNCTION private.sync_set_scene_creates(p_group jsonb)
RETURNS TABLE (ord integer, result jsonb, record jsonb)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
BEGIN
    PERFORM private.sync_lock_projects(ARRAY(
        SELECT (e -> 'mutation' -> 'args' ->> 'project_id')::uuid
        FROM jsonb_array_elements(p_group) AS e));
    RETURN QUERY
    WITH m AS (
        SELECT e ->> 'ord' AS ord, e -> 'mutation' AS mu, (e -> 'mutation' ->> 'id')::uuid AS id,
            (e -> 'mutation' -> 'args' ->> 'project_id')::uuid AS project_id,
            e -> 'mutation' -> 'args' AS args,
            CASE WHEN jsonb_typeof(e -> 'mutation' -> 'args' -> 'order_index') = 'number'
                THEN e -> 'mutation' -> 'args' ->> 'order_index' END AS requested_index
        FROM jsonb_array_elements(p_group) AS e
        WHERE coalesce(jsonb_typeof(e -> 'mutation' -> 'base_mutation_id'), 'null') <> 'number'
            AND jsonb_typeof(e -> 'mutation' -> 'args' -> 'prompt_text') = 'string'
            AND jsonb_typeof(e -> 'mutation' -> 'args' -> 'duration') = 'number'
            AND e ->> 'ord' IN (
                SELECT private.sync_valid_scene_fields(p_group, ARRAY['args']))
    ),
    -- The index after each project's last live scene, by project id (looked up once per
    -- project). The joins of this statement are lookups by key: the planner estimates one row
    -- for the group's filtered elements, and a nested loop over two of them grows with the
    -- square of a batch.
    ends AS MATERIALIZED (
        SELECT private.sync_scene_ends(ARRAY(SELECT DISTINCT m.project_id FROM m)) AS by_project
    ),
    -- Each create placed after the end of its project, in batch order.
    placed AS (
        SELECT m.*,
            (e.by_project ->> m.project_id::text)::integer
            + row_number() OVER (PARTITION BY m.project_id ORDER BY m.ord::integer)
            - 1 AS order_index
        FROM m
        CROSS JOIN ends AS e
        WHERE e.by_project ? m.project_id::text
            AND NOT EXISTS (SELECT FROM public.scene_drafts AS s WHERE s.id = m.id)
    ),
    -- Each project's creates up to (not including) its first one before the end.
    at_end AS (
        SELECT b.* FROM (
            SELECT p.*, bool_or(CASE
                WHEN p.requested_index IS NULL THEN false
                WHEN p.requested_index ~ '^[0-9]{1,9}$'
                    THEN p.requested_index::integer < p.order_index
                ELSE true
            END) OVER (PARTITION BY p.project_id ORDER BY p.ord::integer) AS before_end
            FROM placed AS p
        ) AS b
        WHERE NOT b.before_end
    ),
    inserted AS (
        INSERT INTO public.scene_drafts AS s (
            id, user_id, project_id, order_index, prompt_text, duration, scene_type, shot_type
        )
        SELECT
            p.id, v_user, p.project_id, p.order_index, p.args ->> 'prompt_text',
            (p.args ->> 'duration')::double precision, p.args ->> 'scene_type',
            p.args ->> 'shot_type'
        FROM at_end AS p
        ORDER BY p.ord::integer
        ON CONFLICT (id) DO NOTHING
        RETURNING s.*
    ),
    -- Each inserted row's create, by id. Of two creates of one id the first inserted, and it is
    -- aggregated last so that its entry is the one kept.
    creates AS (
        SELECT jsonb_object_agg(p.id::text, jsonb_build_object('ord', p.ord, 'mutation', p.mu)
            ORDER BY p.ord::integer DESC) AS by_id
        FROM at_end AS p
    )
    SELECT (r.entry ->> 'ord')::integer,
        jsonb_build_object(
            'mutation_id', (r.entry -> 'mutation' ->> 'mutation_id')::bigint,
            'outcome', 'applied', 'row', r.row),
        jsonb_build_object(
            'table', r.entry -> 'mutation' ->> 'table', 'op', r.entry -> 'mutation' ->> 'op',
            'id', r.entry -> 'mutation' ->> 'id', 'row', r.row)
    FROM inserted AS i
    CROSS JOIN creates AS x
    CROSS JOIN LATERAL (SELECT x.by_id -> i.id::text AS entry, to_jsonb(i) AS row OFFSET 0) AS r;
END;
$$;

-- The base version of each mutation of a group, rebased on its base_mutation_id (see
-- private.sync_rebased_version), and whether that mutation id belongs to another user (then
-- the contract path answers forbidden).
DROP FUNCTION IF EXISTS private.sync_group_bases(uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_group_bases(p_client_id uuid, p_group jsonb)
RETURNS TABLE (ord text, base bigint, foreign_base boolean)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    RETURN QUERY
    WITH m AS (
        SELECT e ->> 'ord' AS ord, e -> 'mutation' AS mu,
            CASE WHEN jsonb_typeof(e -> 'mutation' -> 'base_mutation_id') = 'number'
                THEN (e -> 'mutation' ->> 'base_mutation_id')::bigint END AS base_mutation_id
        FROM jsonb_array_elements(p_group) AS e
    ),
    recorded AS (
        SELECT r.* FROM private.sync_recorded_mutations(
            p_client_id, ARRAY(SELECT m.base_mutation_id FROM m WHERE m.base_mutation_id >= 0)
        ) AS r
    )
    SELECT m.ord, CASE
        WHEN r.foreign_owner THEN NULL
        WHEN r.outcome ->> 'table' = m.mu ->> 'table' AND r.outcome ->> 'id' = m.mu ->> 'id'
            AND r.outcome -> 'row' ->> 'version' IS NOT NULL
            THEN greatest(
                coalesce((m.mu ->> 'base_version')::bigint, 0),
                (r.outcome -> 'row' ->> 'version')::bigint)
        ELSE (m.mu ->> 'base_version')::bigint
    END, coalesce(r.foreign_owner, false)
    FROM m LEFT JOIN recorded AS r ON r.mutation_id = m.base_mutation_id;
END;
$$;

-- Locks the caller's scenes among p_ids after their live projects.
DROP FUNCTION IF EXISTS private.sync_lock_scenes(uuid []);
CREATE OR REPLACE FUNCTION private.sync_lock_scenes(p_ids uuid [])
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    PERFORM private.sync_lock_projects(ARRAY(
        SELECT DISTINCT s.project_id FROM public.scene_drafts AS s
        WHERE s.id = ANY (p_ids) AND s.user_id = (SELECT auth.uid())));
    PERFORM FROM public.scene_drafts AS s
    WHERE s.id = ANY (p_ids) AND s.user_id = (SELECT auth.uid())
    ORDER BY s.id
    FOR UPDATE;
END;
$$;

-- Scene updates: patches checked against field_versions as update_scene_draft does (an
-- overlapping change is a conflict with the current row; a patch that changes nothing writes
-- nothing), the changed scenes written by one UPDATE. Invalid patches, unknown, deleted or
-- moved-on rows are left to the contract function.
DROP FUNCTION IF EXISTS private.sync_update_scenes(uuid, jsonb);
DROP FUNCTION IF EXISTS private.sync_apply_scene_updates(uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_set_scene_updates(
    p_client_id uuid, p_group jsonb
)
RETURNS TABLE (ord integer, result jsonb, record jsonb)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    c_keys constant text[] := ARRAY['prompt_text', 'duration', 'scene_type', 'shot_type'];
    v_user uuid := private.require_user();
    v_ids uuid[] := ARRAY(
        SELECT (e -> 'mutation' ->> 'id')::uuid FROM jsonb_array_elements(p_group) AS e);
    v_ords integer[];
    v_results jsonb[];
    v_records jsonb[];
BEGIN
    PERFORM private.sync_lock_scenes(v_ids);
    -- Materialized: its ids are then plain values an index scan can take under RLS.
    WITH m AS MATERIALIZED (
        SELECT e ->> 'ord' AS ord, e -> 'mutation' AS mu, (e -> 'mutation' ->> 'id')::uuid AS id,
            e -> 'mutation' -> 'args' -> 'patch' AS patch, b.base
        FROM jsonb_array_elements(p_group) AS e
        INNER JOIN private.sync_group_bases(p_client_id, p_group) AS b ON b.ord = e ->> 'ord'
        WHERE b.base >= 1 AND NOT b.foreign_base
            AND jsonb_typeof(e -> 'mutation' -> 'args' -> 'patch') = 'object'
            AND e ->> 'ord' IN (
                SELECT private.sync_valid_scene_fields(p_group, ARRAY['args', 'patch']))
            AND NOT EXISTS (
                SELECT FROM jsonb_object_keys(e -> 'mutation' -> 'args' -> 'patch') AS k
                WHERE k <> ALL (c_keys))
    ),
    -- Each mutation's scene (with its row as JSON, made once), looked up by its id alone (the
    -- owner key), so no estimate of the user's rows can turn the lookup into a walk. Every join
    -- of this statement is by key: the planner estimates one row for the group's elements, and
    -- a join that filters one of them against another grows with the square of a batch.
    checked AS (
        SELECT m.*, s.cur,
            (SELECT array_agg(k.key ORDER BY k.key) FILTER (
                    WHERE coalesce((s.field_versions ->> k.key)::bigint, 0) > m.base)
             FROM jsonb_each(m.patch) AS k WHERE s.cur -> k.key IS DISTINCT FROM k.value
            ) AS conflicts,
            EXISTS (
                SELECT FROM jsonb_each(m.patch) AS k
                WHERE s.cur -> k.key IS DISTINCT FROM k.value) AS changed
        FROM m
        CROSS JOIN LATERAL (
            SELECT d.*, to_jsonb(d) AS cur FROM public.scene_drafts AS d
            WHERE d.id = m.id AND d.user_id = (SELECT v_user) AND EXISTS (
                SELECT FROM public.project_overview AS p
                WHERE p.project_id = d.project_id AND p.user_id = (SELECT v_user)
                    AND p.deleted_at IS NULL)
            -- A fence: planned as one lookup per mutation, never as a hash over the account.
            OFFSET 0
        ) AS s
        WHERE s.deleted_at IS NULL AND m.base <= s.version
    ),
    -- The rows to write by key (a uuid array), each with its patch from a map by id: no join
    -- the planner could turn into a walk over the account or a loop over the group.
    patches AS (
        SELECT array_agg(c.id) AS ids, jsonb_object_agg(c.id::text, c.patch) AS by_id
        FROM checked AS c WHERE c.conflicts IS NULL AND c.changed
    ),
    updated AS (
        UPDATE public.scene_drafts AS s
        -- The patch's fields over the row's (a field the patch does not name keeps its value).
        SET (prompt_text, duration, scene_type, shot_type) = (
            SELECT r.prompt_text, r.duration, r.scene_type, r.shot_type
            FROM jsonb_populate_record(s, x.by_id -> s.id::text) AS r
        )
        FROM patches AS x
        WHERE s.id = ANY (x.ids) AND s.user_id = (SELECT v_user)
        RETURNING s.*
    ),
    updated_rows AS (
        SELECT jsonb_object_agg(u.id::text, to_jsonb(u)) AS by_id FROM updated AS u
    )
    SELECT array_agg(c.ord::integer), array_agg(CASE
        WHEN c.conflicts IS NOT NULL THEN jsonb_build_object(
            'mutation_id', (c.mu ->> 'mutation_id')::bigint, 'outcome', 'conflict',
            'current', c.cur, 'fields', to_jsonb(c.conflicts))
        ELSE jsonb_build_object(
            'mutation_id', (c.mu ->> 'mutation_id')::bigint, 'outcome', 'applied',
            'row', r.row)
    END), array_agg(CASE WHEN c.conflicts IS NULL THEN jsonb_build_object(
        'table', c.mu ->> 'table', 'op', c.mu ->> 'op', 'id', c.mu ->> 'id', 'row', r.row)
    END)
    INTO v_ords, v_results, v_records
    FROM checked AS c
    CROSS JOIN updated_rows AS u
    CROSS JOIN LATERAL (SELECT coalesce(u.by_id -> c.id::text, c.cur) AS row OFFSET 0) AS r;
    -- Gathered, then returned: answered row by row from this statement, its UPDATE was planned
    -- to find each row through the user's pull index (tests/py/integration/test_query_plans.py).
    RETURN QUERY SELECT * FROM unnest(v_ords, v_results, v_records);
END;
$$;

-- Scene deletes: tombstones written by one UPDATE; a tombstone is returned unchanged. Unknown
-- rows are left to the contract function (not_found).
DROP FUNCTION IF EXISTS private.sync_delete_scenes(jsonb);
DROP FUNCTION IF EXISTS private.sync_delete_scenes(uuid, jsonb);
DROP FUNCTION IF EXISTS private.sync_apply_scene_deletes(uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_set_scene_deletes(
    p_client_id uuid, p_group jsonb
)
RETURNS TABLE (ord integer, result jsonb, record jsonb)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_ids uuid[] := ARRAY(
        SELECT (e -> 'mutation' ->> 'id')::uuid FROM jsonb_array_elements(p_group) AS e);
    v_ords integer[];
    v_results jsonb[];
    v_records jsonb[];
BEGIN
    PERFORM private.sync_lock_scenes(v_ids);
    -- Each mutation's scene by its id alone, every join by key, as in
    -- private.sync_set_scene_updates.
    WITH m AS MATERIALIZED (
        SELECT e ->> 'ord' AS ord, e -> 'mutation' AS mu, (e -> 'mutation' ->> 'id')::uuid AS id
        FROM jsonb_array_elements(p_group) AS e
        INNER JOIN private.sync_group_bases(p_client_id, p_group) AS b
            ON b.ord = e ->> 'ord' AND NOT b.foreign_base
    ),
    checked AS (
        SELECT m.ord, m.mu, s.id, s.cur, s.deleted_at IS NOT NULL AS gone
        FROM m
        CROSS JOIN LATERAL (
            SELECT d.id, d.deleted_at, to_jsonb(d) AS cur
            FROM public.scene_drafts AS d
            WHERE d.id = m.id AND d.user_id = (SELECT v_user) AND EXISTS (
                SELECT FROM public.project_overview AS p
                WHERE p.project_id = d.project_id AND p.user_id = (SELECT v_user)
                    AND p.deleted_at IS NULL)
            -- A fence: planned as one lookup per mutation, never as a hash over the account.
            OFFSET 0
        ) AS s
    ),
    deleted AS (
        UPDATE public.scene_drafts AS s
        SET archived = true, deleted_at = now()
        WHERE s.id = ANY (ARRAY(SELECT c.id FROM checked AS c WHERE NOT c.gone))
            AND s.user_id = (SELECT v_user)
        RETURNING s.*
    ),
    deleted_rows AS (
        SELECT jsonb_object_agg(d.id::text, to_jsonb(d)) AS by_id FROM deleted AS d
    )
    SELECT array_agg(c.ord::integer), array_agg(jsonb_build_object(
        'mutation_id', (c.mu ->> 'mutation_id')::bigint, 'outcome', 'applied', 'row', r.row)),
    array_agg(jsonb_build_object(
        'table', c.mu ->> 'table', 'op', c.mu ->> 'op', 'id', c.mu ->> 'id', 'row', r.row))
    INTO v_ords, v_results, v_records
    FROM checked AS c
    CROSS JOIN deleted_rows AS d
    CROSS JOIN LATERAL (SELECT coalesce(d.by_id -> c.id::text, c.cur) AS row OFFSET 0) AS r;
    -- Gathered, then returned, as in private.sync_set_scene_updates.
    RETURN QUERY SELECT * FROM unnest(v_ords, v_results, v_records);
END;
$$;

-- Reorders: every project's live scenes renumbered along its list by one UPDATE. A list that
-- is not exactly the project's live scenes (stale_order), repeats an id or is not a list of
-- ids is left to the contract function. The result is the project and its scenes in order.
DROP FUNCTION IF EXISTS private.sync_reorder_scenes(jsonb);
DROP FUNCTION IF EXISTS private.sync_reorder_scenes(uuid, jsonb);
DROP FUNCTION IF EXISTS private.sync_apply_reorders(uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_set_reorders(p_client_id uuid, p_group jsonb)
RETURNS TABLE (ord integer, result jsonb, record jsonb)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_valid jsonb;
BEGIN
    PERFORM private.sync_lock_projects(ARRAY(
        SELECT coalesce(e -> 'mutation' -> 'args' ->> 'project_id', e -> 'mutation' ->> 'id')::uuid
        FROM jsonb_array_elements(p_group) AS e));
    -- m is materialized so that its project ids are plain values: a key computed from jsonb
    -- inside the join could not serve an index scan under RLS (it is not leakproof), and every
    -- reorder would read all of the user's scenes.
    WITH m AS MATERIALIZED (
        SELECT e ->> 'ord' AS ord, e -> 'mutation' AS mu,
            coalesce(e -> 'mutation' -> 'args' ->> 'project_id', e -> 'mutation' ->> 'id')::uuid
                AS project_id,
            ARRAY(SELECT i::uuid FROM jsonb_array_elements_text(
                e -> 'mutation' -> 'args' -> 'ordered_ids') AS i) AS ids
        FROM jsonb_array_elements(p_group) AS e
        WHERE jsonb_typeof(e -> 'mutation' -> 'args' -> 'ordered_ids') = 'array'
            AND e ->> 'ord' IN (
                SELECT b.ord FROM private.sync_group_bases(p_client_id, p_group) AS b
                WHERE NOT b.foreign_base)
            AND NOT EXISTS (
                SELECT FROM jsonb_array_elements(e -> 'mutation' -> 'args' -> 'ordered_ids') AS i
                WHERE jsonb_typeof(i) <> 'string'
                    OR i #>> '{}' !~ '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$')
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'ord', m.ord, 'mu', m.mu, 'project_id', m.project_id, 'ids', to_jsonb(m.ids))), '[]')
    INTO v_valid
    FROM m
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(s.id), '{}') AS ids FROM public.scene_drafts AS s
        WHERE s.project_id = m.project_id AND s.user_id = (SELECT v_user)
            AND NOT s.archived AND s.deleted_at IS NULL
    ) AS live
    WHERE cardinality(m.ids) = cardinality(live.ids)
        AND m.ids @> live.ids
        AND cardinality(m.ids) = (SELECT count(DISTINCT i) FROM unnest(m.ids) AS i)
        AND EXISTS (
            SELECT FROM public.project_overview AS p
            WHERE p.project_id = m.project_id AND p.user_id = (SELECT v_user) AND p.deleted_at IS NULL);
    UPDATE public.scene_drafts AS s
    SET order_index = (o.n - 1)::integer
    FROM jsonb_array_elements(v_valid) AS v,
        jsonb_array_elements_text(v -> 'ids') WITH ORDINALITY AS o (id, n)
    WHERE s.id = o.id::uuid AND s.user_id = (SELECT v_user) AND s.order_index <> o.n - 1
        AND s.id = ANY (ARRAY(
            SELECT i::uuid FROM jsonb_array_elements(v_valid) AS x,
                jsonb_array_elements_text(x -> 'ids') AS i));
    RETURN QUERY
    SELECT (v ->> 'ord')::integer,
        jsonb_build_object(
            'mutation_id', (v -> 'mu' ->> 'mutation_id')::bigint, 'outcome', 'applied',
            'row', r.row, 'rows', r.rows),
        jsonb_build_object(
            'table', v -> 'mu' ->> 'table', 'op', v -> 'mu' ->> 'op', 'id', v -> 'mu' ->> 'id',
            'row', r.row, 'rows', r.rows)
    FROM jsonb_array_elements(v_valid) AS v
    CROSS JOIN LATERAL (
        SELECT p.* FROM public.project_overview AS p
        WHERE p.project_id = (v ->> 'project_id')::uuid AND p.user_id = (SELECT v_user)
        -- A fence: one lookup by key per reorder, never a hash over the user's projects.
        OFFSET 0
    ) AS p
    CROSS JOIN LATERAL (
        SELECT to_jsonb(p) AS row,
            coalesce(jsonb_agg(s ORDER BY s.order_index, s.id), '[]') AS rows
        FROM public.scene_drafts AS s
        WHERE s.project_id = p.project_id AND s.user_id = (SELECT v_user)
            AND NOT s.archived AND s.deleted_at IS NULL
    ) AS r;
END;
$$;

-- Applies one group of a wave; returns each mutation's result. The set step and the records
-- of what it applied share one subtransaction: when its statement fails, nothing of it stays
-- and every mutation of the group takes the contract path, which answers the error of each.
DROP FUNCTION IF EXISTS private.sync_apply_group(uuid, integer, jsonb);
DROP FUNCTION IF EXISTS private.sync_push_group(uuid, integer, jsonb);
CREATE OR REPLACE FUNCTION private.sync_push_group(
    p_client_id uuid, p_rank integer, p_group jsonb
)
RETURNS TABLE (ord integer, result jsonb)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_ords integer[] := '{}'::integer[];
    v_results jsonb[] := '{}'::jsonb[];
    v_record_ids bigint[];
    v_records jsonb[];
    v_entry jsonb;
    v_state text;
    v_hint text;
BEGIN
    IF p_rank IN (10, 40, 50, 60, 70) THEN
        BEGIN
            SELECT coalesce(array_agg(r.ord), '{}'), coalesce(array_agg(r.result), '{}'),
                coalesce(array_agg((r.result ->> 'mutation_id')::bigint)
                    FILTER (WHERE r.record IS NOT NULL), '{}'),
                coalesce(array_agg(r.record) FILTER (WHERE r.record IS NOT NULL), '{}')
            INTO v_ords, v_results, v_record_ids, v_records
            FROM (
                SELECT * FROM private.sync_set_project_upserts(p_group) WHERE p_rank = 10
                UNION ALL SELECT * FROM private.sync_set_scene_creates(p_group) WHERE p_rank = 40
                UNION ALL SELECT * FROM private.sync_set_scene_updates(p_client_id, p_group)
                WHERE p_rank = 50
                UNION ALL SELECT * FROM private.sync_set_scene_deletes(p_client_id, p_group)
                WHERE p_rank = 60
                UNION ALL SELECT * FROM private.sync_set_reorders(p_client_id, p_group)
                WHERE p_rank = 70
            ) AS r;
            -- An applied result comes with its record (see the top of this file).
            PERFORM private.sync_record_mutations(p_client_id, v_record_ids, v_records);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_hint = PG_EXCEPTION_HINT;
            IF private.error_is_transient(private.error_code(v_state, v_hint)) THEN
                RAISE;
            END IF;
            v_ords := '{}'::integer[];
            v_results := '{}'::jsonb[];
        END;
    END IF;
    -- What the set step left (when it took the whole group, nothing is left to look for).
    IF cardinality(v_ords) < jsonb_array_length(p_group) THEN
        FOR v_entry IN
            SELECT e FROM jsonb_array_elements(p_group) AS e
            WHERE (e ->> 'ord')::integer <> ALL (v_ords)
            ORDER BY (e ->> 'ord')::integer
        LOOP
            v_ords := v_ords || (v_entry ->> 'ord')::integer;
            v_results := v_results || private.sync_push_one(p_client_id, v_entry -> 'mutation');
        END LOOP;
    END IF;
    RETURN QUERY SELECT * FROM unnest(v_ords, v_results);
END;
$$;

REVOKE ALL ON FUNCTION private.sync_valid_scene_fields(jsonb, text []) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_set_project_upserts(jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_lock_projects(uuid []) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_scene_ends(uuid []) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_set_scene_creates(jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_group_bases(uuid, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_lock_scenes(uuid []) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_set_scene_updates(uuid, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_set_scene_deletes(uuid, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_set_reorders(uuid, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_push_group(uuid, integer, jsonb) FROM public, anon;

GRANT EXECUTE ON FUNCTION private.sync_valid_scene_fields(jsonb, text [])
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_set_project_upserts(jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_lock_projects(uuid []) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_scene_ends(uuid []) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_set_scene_creates(jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_group_bases(uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_lock_scenes(uuid []) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_set_scene_updates(uuid, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_set_scene_deletes(uuid, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_set_reorders(uuid, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_push_group(uuid, integer, jsonb)
TO authenticated, service_role;
