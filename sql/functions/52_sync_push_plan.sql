-- Push, planning: which mutations of a batch can be applied together.
--
-- Every mutation gets a rank (its kind: project upserts, scene creates, updates, deletes, ...)
-- and scopes: its row, and the project whose rows it reads or writes. Two mutations that share
-- a scope keep their order: the later one goes into the same wave only when its rank is
-- higher (ranks run in order within a wave), or when both have the same set-based rank and
-- touch different rows; otherwise into a later wave. Mutations without a shared scope commute.
-- So applying the waves in order, and within a wave each rank as one group, gives the same
-- outcome for every mutation as applying the batch one mutation at a time. Mutations the
-- planner cannot reason about (unusual shapes, other tables, rows it cannot place) are
-- barriers: alone in their wave, after everything before them and before everything after.

-- Which mutations of a client were recorded (applied) before, for the signed-in user: the
-- outcome of the user's own records, and whether a record belongs to another user.
DROP FUNCTION IF EXISTS private.sync_recorded_mutations(uuid, bigint []);
CREATE OR REPLACE FUNCTION private.sync_recorded_mutations(
    p_client_id uuid, p_mutation_ids bigint []
)
RETURNS TABLE (mutation_id bigint, foreign_owner boolean, outcome jsonb)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
BEGIN
    RETURN QUERY
    SELECT m.mutation_id, m.user_id <> v_user, CASE WHEN m.user_id = v_user THEN m.outcome END
    FROM private.sync_mutations AS m
    WHERE m.client_id = p_client_id AND m.mutation_id = ANY (p_mutation_ids);
END;
$$;

-- Records applied mutations (ids and outcomes, in pairs) for the signed-in user, in the
-- transaction (or subtransaction) of their effects.
DROP FUNCTION IF EXISTS private.sync_record_mutations(uuid, jsonb);
DROP FUNCTION IF EXISTS private.sync_record_mutations(uuid, bigint [], jsonb []);
CREATE OR REPLACE FUNCTION private.sync_record_mutations(
    p_client_id uuid, p_mutation_ids bigint [], p_outcomes jsonb []
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
BEGIN
    INSERT INTO private.sync_mutations (user_id, client_id, mutation_id, outcome)
    SELECT v_user, p_client_id, r.mutation_id, r.outcome
    FROM unnest(p_mutation_ids, p_outcomes) AS r (mutation_id, outcome);
END;
$$;

-- The answer to a mutation that was recorded before.
DROP FUNCTION IF EXISTS private.sync_is_usual(jsonb);
DROP FUNCTION IF EXISTS private.sync_recorded_result(jsonb, boolean, jsonb);
CREATE OR REPLACE FUNCTION private.sync_recorded_result(
    p_mutation jsonb, p_foreign_owner boolean, p_recorded jsonb
)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT CASE
        WHEN p_foreign_owner THEN jsonb_build_object(
            'mutation_id', (p_mutation ->> 'mutation_id')::bigint, 'outcome', 'rejected',
            'error', jsonb_build_object('code', 'forbidden',
                'message', 'this mutation id belongs to another user''s client'))
        WHEN p_recorded ->> 'table' IS DISTINCT FROM p_mutation ->> 'table'
            OR p_recorded ->> 'op' IS DISTINCT FROM p_mutation ->> 'op'
            OR p_recorded ->> 'id' IS DISTINCT FROM lower(p_mutation ->> 'id')
            THEN jsonb_build_object(
                'mutation_id', (p_mutation ->> 'mutation_id')::bigint, 'outcome', 'rejected',
                'error', jsonb_build_object('code', 'id_conflict',
                    'message', 'this mutation id was used for a different mutation'))
        ELSE jsonb_build_object(
            'mutation_id', (p_mutation ->> 'mutation_id')::bigint, 'outcome', 'duplicate')
            || (p_recorded - ARRAY['table', 'op', 'id'])
    END
$$;

-- Each mutation of a batch with its rank and scopes, or with its result when it was recorded
-- before. Ranks: 10 project upsert, 20 rename, 30 archive, 35 duplicate, 40 scene create (at
-- the end, or at an index given as a number), 45 other scene creates, 50 scene update, 60 scene
-- delete, 70 reorder, 80 recorded before (answered on its own), 90 anything else (a barrier).
-- Scopes: 'r:<table>:<id>' (the row; a reorder also has 'r:reorder:<project id>') and
-- 'p:<project id>'.
DROP FUNCTION IF EXISTS private.sync_classify_batch(uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_classify_batch(p_client_id uuid, p_mutations jsonb)
RETURNS TABLE (ord integer, mutation jsonb, rank integer, scopes text [], result jsonb)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    RETURN QUERY
    WITH m AS (
        SELECT
            x.n::integer AS ord, x.m, x.m ->> 'table' AS tbl, x.m ->> 'op' AS op,
            x.m ->> 'id' AS id,
            -- The usual shape (a canonical uuid id, integer versions, an object of args):
            -- only those are planned and applied in sets.
            jsonb_typeof(x.m -> 'table') = 'string'
            AND jsonb_typeof(x.m -> 'op') = 'string'
            AND coalesce(x.m ->> 'id' ~ '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$', false)
            AND coalesce(jsonb_typeof(x.m -> 'args'), 'null') IN ('object', 'null')
            AND (coalesce(jsonb_typeof(x.m -> 'base_version'), 'null') = 'null'
                OR x.m ->> 'base_version' ~ '^[0-9]{1,18}$')
            AND (coalesce(jsonb_typeof(x.m -> 'base_mutation_id'), 'null') <> 'number'
                OR x.m ->> 'base_mutation_id' ~ '^[0-9]{1,18}$') AS usual,
            coalesce(x.m -> 'args' ->> 'project_id', x.m ->> 'id') AS project
        FROM jsonb_array_elements(p_mutations) WITH ORDINALITY AS x (m, n)
    ),
    recorded AS (
        SELECT r.* FROM private.sync_recorded_mutations(
            p_client_id, ARRAY(SELECT (m.m ->> 'mutation_id')::bigint FROM m)) AS r
    ),
    scene_projects AS (
        SELECT s.id::text AS id, s.project_id::text AS project
        FROM public.scene_drafts AS s
        WHERE s.user_id = (SELECT auth.uid()) AND s.id = ANY (ARRAY(
            SELECT m.id::uuid FROM m
            WHERE m.usual AND m.tbl = 'scene_drafts' AND m.op IN ('update', 'delete')))
    ),
    batch_creates AS (
        SELECT DISTINCT ON (m.id) m.id, m.ord, m.project
        FROM m
        WHERE m.usual AND m.tbl = 'scene_drafts' AND m.op = 'create'
        ORDER BY m.id, m.ord
    ),
    -- Materialized: its rank is read by several expressions below, each of which would
    -- otherwise compute it (and its pattern matches) again.
    kinds AS MATERIALIZED (
        SELECT m.*, r.mutation_id IS NOT NULL AS is_recorded, r.foreign_owner, r.outcome,
            CASE
                WHEN NOT m.usual THEN 90
                WHEN m.tbl = 'project_overview' THEN
                    CASE m.op WHEN 'upsert' THEN 10 WHEN 'rename' THEN 20
                        WHEN 'archive' THEN 30 WHEN 'duplicate' THEN 35 ELSE 90 END
                WHEN m.tbl = 'scene_drafts' AND m.op = 'create'
                    AND m.project ~ '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$' THEN
                    -- A create at a given index is usually one at the end (a client numbers
                    -- its new scenes after the ones it has): the set step takes those.
                    CASE WHEN coalesce(jsonb_typeof(m.m -> 'args' -> 'order_index'), 'null')
                        IN ('null', 'number') THEN 40 ELSE 45 END
                WHEN m.tbl = 'scene_drafts' AND m.op IN ('update', 'delete') THEN
                    CASE m.op WHEN 'update' THEN 50 ELSE 60 END
                WHEN m.tbl = 'scene_drafts' AND m.op = 'reorder'
                    AND m.project ~ '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$' THEN 70
                ELSE 90
            END AS rank,
            CASE WHEN bc.ord < m.ord THEN bc.project ELSE sp.project END AS scene_project
        FROM m
        LEFT JOIN recorded AS r ON r.mutation_id = (m.m ->> 'mutation_id')::bigint
        LEFT JOIN batch_creates AS bc ON bc.id = m.id
        LEFT JOIN scene_projects AS sp ON sp.id = m.id
    )
    SELECT
        k.ord, k.m,
        CASE
            WHEN k.rank IN (50, 60) AND k.scene_project IS NULL THEN 90
            -- Recorded, but answered on its own (it names a base mutation).
            WHEN k.is_recorded THEN 80
            ELSE k.rank
        END,
        ARRAY['r:' || k.tbl || ':' || k.id, 'p:' || CASE
            WHEN k.rank IN (50, 60) THEN k.scene_project
            WHEN k.rank IN (40, 45, 70) THEN k.project
            ELSE k.id END]
        || CASE
            WHEN k.rank = 35 THEN ARRAY['p:' || (k.m -> 'args' ->> 'source_project_id')]
            WHEN k.rank = 70 THEN ARRAY['r:reorder:' || k.project]
            ELSE '{}' END,
        CASE WHEN k.is_recorded AND k.usual AND NOT k.m ? 'base_mutation_id'
            THEN private.sync_recorded_result(k.m, k.foreign_owner, k.outcome) END
    FROM kinds AS k;
END;
$$;

-- The plan of a batch: each mutation's rank and wave (see the top of this file), or its result
-- when it is answered from its record (then no wave). The walk keeps its state in arrays
-- (updated in place), so planning costs what the batch holds, not its square.
DROP FUNCTION IF EXISTS private.sync_plan_waves(uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_plan_waves(p_client_id uuid, p_mutations jsonb)
RETURNS TABLE (ord integer, rank integer, wave integer, result jsonb)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    c_shared constant integer[] := ARRAY[10, 40, 50, 60, 70];
    v record;
    v_at integer;
    v_wave integer;
    v_floor integer := 1;
    v_top integer := 0;
    -- Per scope (by its number): its last wave and the highest rank in that wave.
    v_scope_waves integer[] := '{}'::integer[];
    v_scope_ranks integer[] := '{}'::integer[];
    v_ords integer[] := '{}'::integer[];
    v_ranks integer[] := '{}'::integer[];
    v_waves integer[] := '{}'::integer[];
    v_results jsonb[] := '{}'::jsonb[];
BEGIN
    FOR v IN
        WITH c AS MATERIALIZED (
            SELECT * FROM private.sync_classify_batch(p_client_id, p_mutations)
        ),
        -- Each scope numbered (equal scopes share a number), so the walk reaches a scope's
        -- state by index; and whether it is shared by mutations of one set-based rank (not a
        -- row's own scope).
        numbered AS (
            SELECT c.ord, u.n, dense_rank() OVER (ORDER BY u.scope) AS scope,
                u.scope NOT LIKE 'r:%' AS shared
            FROM c, unnest(c.scopes) WITH ORDINALITY AS u (scope, n)
        ),
        per_mutation AS (
            SELECT x.ord, array_agg(x.scope ORDER BY x.n) AS scopes,
                array_agg(x.shared ORDER BY x.n) AS shared
            FROM numbered AS x
            GROUP BY x.ord
        )
        SELECT c.ord, c.rank, c.result, coalesce(p.scopes, '{}') AS scopes, p.shared
        FROM c LEFT JOIN per_mutation AS p ON p.ord = c.ord
        ORDER BY c.ord
    LOOP
        v_wave := NULL;
        IF v.result IS NOT NULL THEN
            NULL;
        ELSIF v.rank = 90 THEN
            v_wave := v_top + 1;
            v_floor := v_wave + 1;
        ELSE
            v_wave := v_floor;
            -- A scope seen before holds this mutation to its wave or the next.
            FOR v_k IN 1 .. cardinality(v.scopes) LOOP
                v_at := v.scopes[v_k];
                v_wave := greatest(v_wave, CASE
                    WHEN v_scope_ranks[v_at] IS NULL THEN NULL
                    WHEN v_scope_ranks[v_at] < v.rank THEN v_scope_waves[v_at]
                    WHEN v_scope_ranks[v_at] = v.rank AND v.rank = ANY (c_shared)
                        AND v.shared[v_k] THEN v_scope_waves[v_at]
                    ELSE v_scope_waves[v_at] + 1 END);
            END LOOP;
            FOR v_k IN 1 .. cardinality(v.scopes) LOOP
                v_at := v.scopes[v_k];
                IF v_scope_waves[v_at] IS NULL OR v_scope_waves[v_at] < v_wave
                    OR (v_scope_waves[v_at] = v_wave AND v_scope_ranks[v_at] < v.rank) THEN
                    v_scope_waves[v_at] := v_wave;
                    v_scope_ranks[v_at] := v.rank;
                END IF;
            END LOOP;
        END IF;
        v_top := greatest(v_top, v_wave);
        v_ords := v_ords || v.ord;
        v_ranks := v_ranks || v.rank;
        v_waves := v_waves || v_wave;
        v_results := v_results || v.result;
    END LOOP;
    RETURN QUERY SELECT * FROM unnest(v_ords, v_ranks, v_waves, v_results);
END;
$$;

-- The plan of a batch as one value: each mutation {ord, mutation, rank, wave}, or {ord, result}
-- when it is answered from its record.
DROP FUNCTION IF EXISTS private.sync_plan_batch(uuid, jsonb);
CREATE OR REPLACE FUNCTION private.sync_plan_batch(p_client_id uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT coalesce(jsonb_agg(CASE
        WHEN w.result IS NOT NULL THEN jsonb_build_object('ord', w.ord, 'result', w.result)
        ELSE jsonb_build_object(
            'ord', w.ord, 'mutation', p_mutations -> (w.ord - 1), 'rank', w.rank,
            'wave', w.wave)
        END ORDER BY w.ord), '[]'::jsonb)
    FROM private.sync_plan_waves(p_client_id, p_mutations) AS w
$$;

REVOKE ALL ON FUNCTION private.sync_recorded_mutations(uuid, bigint []) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_record_mutations(uuid, bigint [], jsonb [])
FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_recorded_result(jsonb, boolean, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_classify_batch(uuid, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_plan_waves(uuid, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_plan_batch(uuid, jsonb) FROM public, anon;

GRANT EXECUTE ON FUNCTION private.sync_recorded_mutations(uuid, bigint [])
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_record_mutations(uuid, bigint [], jsonb [])
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_recorded_result(jsonb, boolean, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_classify_batch(uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_plan_waves(uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_plan_batch(uuid, jsonb) TO authenticated, service_role;
