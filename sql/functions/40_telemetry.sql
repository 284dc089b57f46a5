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

-- Why an event is not acceptable, or NULL when it is. An event is
-- {"element": text 1..100, "attempts": int >= 0, "successes": int 0..attempts, "day"?: "YYYY-MM-DD"}
-- and nothing else.
CREATE OR REPLACE FUNCTION private.telemetry_event_problem(p_event jsonb)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    c_int_max constant numeric := 2147483647;
    v_attempts numeric;
    v_successes numeric;
BEGIN
    IF p_event IS NULL OR jsonb_typeof(p_event) <> 'object' THEN
        RETURN 'an event must be an object';
    END IF;
    IF EXISTS (
        SELECT FROM jsonb_object_keys(p_event) AS k
        WHERE k NOT IN ('element', 'attempts', 'successes', 'day')
    ) THEN
        RETURN 'an event has only element, attempts, successes and day';
    END IF;
    IF jsonb_typeof(p_event -> 'element') IS DISTINCT FROM 'string'
        OR char_length(p_event ->> 'element') NOT BETWEEN 1 AND 100
    THEN
        RETURN 'element must be a text of 1 to 100 characters';
    END IF;
    IF jsonb_typeof(p_event -> 'attempts') IS DISTINCT FROM 'number'
        OR jsonb_typeof(p_event -> 'successes') IS DISTINCT FROM 'number'
    THEN
        RETURN 'attempts and successes must be numbers';
    END IF;
    v_attempts := (p_event ->> 'attempts')::numeric;
    v_successes := (p_event ->> 'successes')::numeric;
    IF v_attempts <> trunc(v_attempts) OR v_attempts NOT BETWEEN 0 AND c_int_max THEN
        RETURN 'attempts must be a whole number >= 0';
    END IF;
    IF v_successes <> trunc(v_successes) OR v_successes NOT BETWEEN 0 AND v_attempts THEN
        RETURN 'successes must be a whole number between 0 and attempts';
    END IF;
    IF p_event ? 'day' AND jsonb_typeof(p_event -> 'day') <> 'null' THEN
        IF jsonb_typeof(p_event -> 'day') <> 'string'
            OR (p_event ->> 'day') !~ '^\d{4}-\d{2}-\d{2}$'
        THEN
            RETURN 'day must be an ISO date (YYYY-MM-DD)';
        END IF;
        BEGIN
            PERFORM (p_event ->> 'day')::date;
        EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
            RETURN 'day must be an ISO date (YYYY-MM-DD)';
        END;
    END IF;
    RETURN NULL;
END;
$$;

-- Only called from private.batch_upsert_telemetry, which runs as its owner.
REVOKE ALL ON FUNCTION private.telemetry_event_problem(jsonb) FROM public, anon, authenticated;

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

    SELECT e.ordinality - 1 AS position, private.telemetry_event_problem(e.value) AS problem
    INTO v_problem
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e
    WHERE private.telemetry_event_problem(e.value) IS NOT NULL
    ORDER BY e.ordinality
    LIMIT 1;
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
