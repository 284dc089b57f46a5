-- Telemetry: a client's buffered events arrive in batches and are added to
-- continuity_telemetry per (user, element, UTC day), with rate = successes / attempts.
--
-- A batch is applied exactly once: its id is recorded in private.telemetry_batches in the same
-- transaction as the increments, so a replay (even a concurrent one) adds nothing. The
-- increments are one INSERT ... ON CONFLICT DO UPDATE that adds to the stored row, so concurrent
-- writers never lose an increment. continuity_telemetry is read-only to its owner, hence the
-- work is done by SECURITY DEFINER private.batch_upsert_telemetry (schema private is not exposed
-- over the API) behind the SECURITY INVOKER public function; the caller's id comes from
-- auth.uid() only.

-- An event is
-- {"element": text 1..100, "attempts": int >= 0, "successes": int 0..attempts, "day"?: "YYYY-MM-DD"}
-- and nothing else.
--
-- The first unacceptable event of a batch (its position from 0, and why), no row when every
-- event is acceptable. One SQL statement over the batch (no PL/pgSQL call, no subtransaction per
-- event), so 500 events are checked at the cost of a scan; the day is checked field by field
-- (month, then day of that month), so no cast can raise.
CREATE OR REPLACE FUNCTION private.telemetry_batch_problem(
    p_events jsonb, OUT event_index bigint, OUT problem text
)
RETURNS SETOF record
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT c.event_index, c.problem
    FROM (
        SELECT e.ordinality - 1 AS event_index,
            CASE
            WHEN e.value IS NULL OR jsonb_typeof(e.value) <> 'object'
                THEN 'an event must be an object'
            WHEN e.value - ARRAY['element', 'attempts', 'successes', 'day'] <> '{}'::jsonb
                THEN 'an event has only element, attempts, successes and day'
            WHEN jsonb_typeof(e.value -> 'element') IS DISTINCT FROM 'string'
                OR char_length(e.value ->> 'element') NOT BETWEEN 1 AND 100
                THEN 'element must be a text of 1 to 100 characters'
            WHEN jsonb_typeof(e.value -> 'attempts') IS DISTINCT FROM 'number'
                OR jsonb_typeof(e.value -> 'successes') IS DISTINCT FROM 'number'
                THEN 'attempts and successes must be numbers'
            WHEN (e.value ->> 'attempts')::numeric <> trunc((e.value ->> 'attempts')::numeric)
                OR (e.value ->> 'attempts')::numeric NOT BETWEEN 0 AND 2147483647
                THEN 'attempts must be a whole number >= 0'
            WHEN (e.value ->> 'successes')::numeric <> trunc((e.value ->> 'successes')::numeric)
                OR (e.value ->> 'successes')::numeric
                NOT BETWEEN 0 AND (e.value ->> 'attempts')::numeric
                THEN 'successes must be a whole number between 0 and attempts'
            WHEN coalesce(jsonb_typeof(e.value -> 'day'), 'null') = 'null'
                THEN NULL
            WHEN jsonb_typeof(e.value -> 'day') <> 'string'
                OR (e.value ->> 'day') !~ '^\d{4}-\d{2}-\d{2}$'
                OR substr(e.value ->> 'day', 1, 4)::integer < 1
                OR substr(e.value ->> 'day', 6, 2)::integer NOT BETWEEN 1 AND 12
                OR substr(e.value ->> 'day', 9, 2)::integer NOT BETWEEN 1 AND extract(
                    DAY FROM make_date(
                        substr(e.value ->> 'day', 1, 4)::integer,
                        substr(e.value ->> 'day', 6, 2)::integer, 1
                    ) + interval '1 month - 1 day'
                )
                THEN 'day must be an ISO date (YYYY-MM-DD)'
        END AS problem
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e
    ) AS c
    WHERE c.problem IS NOT NULL
    ORDER BY c.event_index
    LIMIT 1
$$;

-- Why one event is not acceptable, or NULL when it is.
CREATE OR REPLACE FUNCTION private.telemetry_event_problem(p_event jsonb)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT CASE
        WHEN p_event IS NULL THEN 'an event must be an object'
        ELSE (
            SELECT b.problem
            FROM private.telemetry_batch_problem(jsonb_build_array(p_event)) AS b
        )
    END
$$;

-- Only called from private.batch_upsert_telemetry, which runs as its owner.
REVOKE ALL ON FUNCTION private.telemetry_event_problem(jsonb) FROM public, anon, authenticated;
REVOKE ALL ON FUNCTION private.telemetry_batch_problem(jsonb) FROM public, anon, authenticated;

CREATE OR REPLACE FUNCTION private.batch_upsert_telemetry(p_batch_id uuid, p_events jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    c_max_events constant integer := 500;
    v_user uuid := private.require_user();
    v_count integer;
    v_problem record;
    v_elements integer;
BEGIN
    IF p_batch_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'a batch needs an id');
    END IF;
    IF p_events IS NULL OR jsonb_typeof(p_events) <> 'array' THEN
        PERFORM private.raise_error('invalid_input', 'events must be a JSON array');
    END IF;
    v_count := jsonb_array_length(p_events);
    IF v_count > c_max_events THEN
        PERFORM private.raise_error(
            'invalid_input',
            format('a batch holds at most %s events, got %s', c_max_events, v_count),
            jsonb_build_object('max_events', c_max_events, 'events', v_count)
        );
    END IF;

    SELECT b.event_index AS position, b.problem
    INTO v_problem
    FROM private.telemetry_batch_problem(p_events) AS b;
    IF FOUND THEN
        PERFORM private.raise_error(
            'invalid_input',
            format('event %s: %s', v_problem.position, v_problem.problem),
            jsonb_build_object('event', v_problem.position)
        );
    END IF;

    -- Claim the batch id first: a replay (or a concurrent duplicate, which waits here for the
    -- first to commit) finds it taken and applies nothing.
    INSERT INTO private.telemetry_batches (user_id, batch_id, event_count)
    VALUES (v_user, p_batch_id, v_count)
    ON CONFLICT (user_id, batch_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('batch_id', p_batch_id, 'applied', false, 'elements', 0);
    END IF;

    -- One row per (element, day), in a fixed order so concurrent batches lock rows in the same
    -- order and cannot deadlock.
    BEGIN
        INSERT INTO public.continuity_telemetry AS t
            (user_id, element, day, attempts, successes, rate, timestamp)
        SELECT
            v_user,
            a.element,
            a.day,
            a.attempts,
            a.successes,
            CASE WHEN a.attempts = 0 THEN 0 ELSE a.successes::double precision / a.attempts END,
            now()
        FROM (
            SELECT
                e.value ->> 'element' AS element,
                coalesce((e.value ->> 'day')::date, (now() AT TIME ZONE 'UTC')::date) AS day,
                sum((e.value ->> 'attempts')::bigint) AS attempts,
                sum((e.value ->> 'successes')::bigint) AS successes
            FROM jsonb_array_elements(p_events) AS e
            GROUP BY 1, 2
        ) AS a
        ORDER BY a.element, a.day
        ON CONFLICT (user_id, element, day) DO UPDATE
        SET attempts = t.attempts + excluded.attempts,
            successes = t.successes + excluded.successes,
            rate = CASE
                WHEN t.attempts + excluded.attempts = 0 THEN 0
                ELSE (t.successes + excluded.successes)::double precision
                    / (t.attempts + excluded.attempts)
            END,
            timestamp = now();
        GET DIAGNOSTICS v_elements = ROW_COUNT;
    EXCEPTION WHEN numeric_value_out_of_range THEN
        PERFORM private.raise_error(
            'invalid_input', 'the counts of an element and day would exceed 2147483647'
        );
    END;

    RETURN jsonb_build_object('batch_id', p_batch_id, 'applied', true, 'elements', v_elements);
END;
$$;

REVOKE ALL ON FUNCTION private.batch_upsert_telemetry(uuid, jsonb) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.batch_upsert_telemetry(uuid, jsonb)
TO authenticated, service_role;

-- The API of private.batch_upsert_telemetry, running as the caller.
CREATE OR REPLACE FUNCTION public.batch_upsert_telemetry(p_batch_id uuid, p_events jsonb)
RETURNS jsonb
LANGUAGE sql
SECURITY INVOKER
SET search_path = ''
AS $$
    SELECT private.batch_upsert_telemetry(p_batch_id, p_events)
$$;

REVOKE ALL ON FUNCTION public.batch_upsert_telemetry(uuid, jsonb) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.batch_upsert_telemetry(uuid, jsonb) TO authenticated, service_role;
