-- Canary release: who is in the canary, the sync metrics clients report, and release health.
--
-- A user's release channel is decided by a stable hash of the user id: the first 32 bits of
-- md5(id) modulo 10000 give a bucket 0..9999 that never changes, and the user is in the canary
-- when the bucket is below canary_percent * 100 (private.release_settings, default 5 %). Raising
-- the share only adds users to the canary. Sync metrics are stamped with the channel the user is
-- in when they arrive, so a later change of the share does not move past counts.

-- The user's fixed bucket, 0..9999.
CREATE OR REPLACE FUNCTION private.release_bucket(p_user uuid)
RETURNS integer
LANGUAGE sql
IMMUTABLE
STRICT
SET search_path = ''
AS $$
    SELECT (('x' || substr(md5(p_user::text), 1, 8))::bit(32)::bigint % 10000)::integer
$$;

-- The channel of a user for a canary share given in percent.
CREATE OR REPLACE FUNCTION private.release_channel_for(p_user uuid, p_percent numeric)
RETURNS text
LANGUAGE sql
IMMUTABLE
STRICT
SET search_path = ''
AS $$
    SELECT CASE WHEN private.release_bucket(p_user) < p_percent * 100 THEN 'canary'
        ELSE 'stable' END
$$;

-- The signed-in user's channel under the current share (runs as owner: the share is private).
CREATE OR REPLACE FUNCTION private.current_release_channel()
RETURNS text
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT private.release_channel_for(private.require_user(), s.canary_percent)
    FROM private.release_settings AS s
$$;

REVOKE ALL ON FUNCTION private.release_bucket(uuid) FROM public, anon;
REVOKE ALL ON FUNCTION private.release_channel_for(uuid, numeric) FROM public, anon;
REVOKE ALL ON FUNCTION private.current_release_channel() FROM public, anon;
GRANT EXECUTE ON FUNCTION private.release_bucket(uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.release_channel_for(uuid, numeric)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.current_release_channel() TO authenticated;

-- 'canary' or 'stable': the signed-in user's release channel.
CREATE OR REPLACE FUNCTION public.my_release_channel()
RETURNS text
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT private.current_release_channel()
$$;

REVOKE ALL ON FUNCTION public.my_release_channel() FROM public, anon;
GRANT EXECUTE ON FUNCTION public.my_release_channel() TO authenticated;

-- Set the canary share (service role only); returns the share now stored.
CREATE OR REPLACE FUNCTION public.set_canary_percent(p_percent numeric)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_percent numeric;
BEGIN
    IF p_percent IS NULL OR p_percent < 0 OR p_percent > 100 THEN
        PERFORM private.raise_error('invalid_input', 'the canary share is a percent 0..100');
    END IF;
    UPDATE private.release_settings
    SET canary_percent = p_percent, updated_at = now()
    WHERE id AND canary_percent IS DISTINCT FROM round(p_percent, 2);
    SELECT s.canary_percent INTO v_percent FROM private.release_settings AS s;
    RETURN v_percent;
END;
$$;

REVOKE ALL ON FUNCTION public.set_canary_percent(numeric) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.set_canary_percent(numeric) TO service_role;

-- The create-to-confirm histogram's bucket upper bounds in ms (the last bucket, inf, is open).
CREATE OR REPLACE FUNCTION private.create_to_confirm_bounds()
RETURNS integer []
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT ARRAY[250, 500, 1000, 2000, 3000, 5000, 10000, 30000, 60000]
$$;

REVOKE ALL ON FUNCTION private.create_to_confirm_bounds() FROM public, anon;
GRANT EXECUTE ON FUNCTION private.create_to_confirm_bounds() TO authenticated, service_role;

-- Why a sync metric event is not acceptable, or NULL when it is. An event is
-- {"metric": "sync_outcome", "bucket": "confirmed" | "retried" | "dead", "count": int >= 0,
--  "day"?: "YYYY-MM-DD"} or the same with metric "create_to_confirm_ms" and a bucket that is
-- one of private.create_to_confirm_bounds() as text, or "inf".
CREATE OR REPLACE FUNCTION private.sync_metric_problem(p_event jsonb)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    v_count numeric;
BEGIN
    IF p_event IS NULL OR jsonb_typeof(p_event) <> 'object' THEN
        RETURN 'an event must be an object';
    END IF;
    IF EXISTS (
        SELECT FROM jsonb_object_keys(p_event) AS k WHERE k NOT IN ('metric', 'bucket', 'count', 'day')
    ) THEN
        RETURN 'an event has only metric, bucket, count and day';
    END IF;
    IF p_event ->> 'metric' = 'sync_outcome' THEN
        IF coalesce(p_event ->> 'bucket', '') NOT IN ('confirmed', 'retried', 'dead') THEN
            RETURN 'a sync_outcome bucket is confirmed, retried or dead';
        END IF;
    ELSIF p_event ->> 'metric' = 'create_to_confirm_ms' THEN
        IF coalesce(p_event ->> 'bucket', '') NOT IN (
            SELECT b::text FROM unnest(private.create_to_confirm_bounds()) AS b
            UNION ALL SELECT 'inf'
        ) THEN
            RETURN 'a create_to_confirm_ms bucket is one of the histogram bounds or inf';
        END IF;
    ELSE
        RETURN 'metric must be sync_outcome or create_to_confirm_ms';
    END IF;
    IF jsonb_typeof(p_event -> 'bucket') IS DISTINCT FROM 'string' THEN
        RETURN 'bucket must be a text';
    END IF;
    IF jsonb_typeof(p_event -> 'count') IS DISTINCT FROM 'number' THEN
        RETURN 'count must be a number';
    END IF;
    v_count := (p_event ->> 'count')::numeric;
    IF v_count <> trunc(v_count) OR v_count NOT BETWEEN 0 AND 2147483647 THEN
        RETURN 'count must be a whole number >= 0';
    END IF;
    IF p_event ? 'day' AND jsonb_typeof(p_event -> 'day') <> 'null' THEN
        -- The same day rule as telemetry events.
        RETURN private.telemetry_event_problem(
            jsonb_build_object('element', 'day', 'attempts', 0, 'successes', 0,
                'day', p_event -> 'day')
        );
    END IF;
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION private.sync_metric_problem(jsonb) FROM public, anon, authenticated;

-- Add a batch of the signed-in user's sync metric counts, once per batch id.
CREATE OR REPLACE FUNCTION private.record_sync_metrics(p_batch_id uuid, p_events jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    c_max_events constant integer := 500;
    v_user uuid := private.require_user();
    v_problem record;
    v_channel text;
    v_rows integer;
BEGIN
    IF p_batch_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'a batch needs an id');
    END IF;
    IF p_events IS NULL OR jsonb_typeof(p_events) <> 'array' THEN
        PERFORM private.raise_error('invalid_input', 'events must be a JSON array');
    END IF;
    IF jsonb_array_length(p_events) > c_max_events THEN
        PERFORM private.raise_error(
            'invalid_input', format('a batch holds at most %s events', c_max_events),
            jsonb_build_object('max_events', c_max_events)
        );
    END IF;
    SELECT e.ordinality - 1 AS position, private.sync_metric_problem(e.value) AS problem
    INTO v_problem
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e
    WHERE private.sync_metric_problem(e.value) IS NOT NULL
    ORDER BY e.ordinality
    LIMIT 1;
    IF FOUND THEN
        PERFORM private.raise_error(
            'invalid_input', format('event %s: %s', v_problem.position, v_problem.problem),
            jsonb_build_object('event', v_problem.position)
        );
    END IF;

    INSERT INTO private.sync_metric_batches (user_id, batch_id, event_count)
    VALUES (v_user, p_batch_id, jsonb_array_length(p_events))
    ON CONFLICT (user_id, batch_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('batch_id', p_batch_id, 'applied', false, 'rows', 0);
    END IF;

    v_channel := private.current_release_channel();
    INSERT INTO public.sync_metrics AS m (user_id, day, channel, metric, bucket, count)
    SELECT v_user, a.day, v_channel, a.metric, a.bucket, a.count
    FROM (
        SELECT
            e.value ->> 'metric' AS metric,
            e.value ->> 'bucket' AS bucket,
            coalesce((e.value ->> 'day')::date, (now() AT TIME ZONE 'UTC')::date) AS day,
            sum((e.value ->> 'count')::bigint) AS count
        FROM jsonb_array_elements(p_events) AS e
        GROUP BY 1, 2, 3
    ) AS a
    ORDER BY a.day, a.metric, a.bucket
    ON CONFLICT (user_id, day, channel, metric, bucket) DO UPDATE
    SET count = m.count + excluded.count, updated_at = now();
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN jsonb_build_object(
        'batch_id', p_batch_id, 'applied', true, 'rows', v_rows, 'channel', v_channel
    );
END;
$$;

REVOKE ALL ON FUNCTION private.record_sync_metrics(uuid, jsonb) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.record_sync_metrics(uuid, jsonb) TO authenticated;

-- Contract: add sync metric counts (a replayed batch id adds nothing).
CREATE OR REPLACE FUNCTION public.record_sync_metrics(p_batch_id uuid, p_events jsonb)
RETURNS jsonb
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT private.record_sync_metrics(p_batch_id, p_events)
$$;

REVOKE ALL ON FUNCTION public.record_sync_metrics(uuid, jsonb) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.record_sync_metrics(uuid, jsonb) TO authenticated;

-- Rollup step: sync_metrics of one day summed over users per channel, metric and bucket into
-- private.release_channel_daily (only changed rows written, vanished ones removed); the number
-- of rows written.
CREATE OR REPLACE FUNCTION private.rollup_release_channels(p_day date)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_written integer;
    v_removed integer;
BEGIN
    INSERT INTO private.release_channel_daily AS r (day, channel, metric, bucket, count, user_count)
    SELECT m.day, m.channel, m.metric, m.bucket, sum(m.count), count(DISTINCT m.user_id)
    FROM public.sync_metrics AS m
    WHERE m.day = p_day
    GROUP BY m.day, m.channel, m.metric, m.bucket
    ORDER BY m.day, m.channel, m.metric, m.bucket
    ON CONFLICT (day, channel, metric, bucket) DO UPDATE
    SET count = excluded.count, user_count = excluded.user_count, updated_at = now()
    WHERE (r.count, r.user_count) IS DISTINCT FROM (excluded.count, excluded.user_count);
    GET DIAGNOSTICS v_written = ROW_COUNT;
    DELETE FROM private.release_channel_daily AS r
    WHERE r.day = p_day AND NOT EXISTS (
        SELECT FROM public.sync_metrics AS m
        WHERE m.day = r.day AND m.channel = r.channel AND m.metric = r.metric
            AND m.bucket = r.bucket
    );
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    RETURN v_written + v_removed;
END;
$$;

REVOKE ALL ON FUNCTION private.rollup_release_channels(date) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.rollup_release_channels(date) TO service_role;

-- The median of a histogram given as (upper bound, count) rows in bound order (NULL bound =
-- the open last bucket), interpolated linearly inside the bucket holding the middle sample.
-- The open bucket has no upper bound: its median is its lower bound. NULL without samples.
CREATE OR REPLACE FUNCTION private.histogram_median(p_bounds integer [], p_counts bigint [])
RETURNS double precision
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT CASE
        WHEN h.upper IS NULL THEN h.lower::double precision
        ELSE h.lower + (h.upper - h.lower) * (h.half - h.before) / h.n
    END
    FROM (
        SELECT
            coalesce(lag(b.bound) OVER w, 0) AS lower,
            b.bound AS upper,
            b.n,
            sum(b.n) OVER w - b.n AS before,
            sum(b.n) OVER w AS upto,
            sum(b.n) OVER () / 2.0 AS half
        FROM unnest(p_bounds || NULL::integer, p_counts) WITH ORDINALITY AS b (bound, n, i)
        WINDOW w AS (ORDER BY b.i)
    ) AS h
    WHERE h.n > 0 AND h.upto >= h.half AND h.half > 0
    ORDER BY h.upto
    LIMIT 1
$$;

REVOKE ALL ON FUNCTION private.histogram_median(integer [], bigint [])
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.histogram_median(integer [], bigint []) TO service_role;

-- Release health per channel over the last p_days UTC days (today included), from the daily
-- rollup: sync outcomes, failure rate = (retried + dead) / all outcomes, latency samples and
-- the median create-to-confirm latency in ms (service role only).
CREATE OR REPLACE FUNCTION public.release_health(p_days integer)
RETURNS TABLE (
    channel text, first_day date, confirmed bigint, retried bigint, dead bigint,
    failure_rate double precision, latency_samples bigint, median_ms double precision
)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_first date := (now() AT TIME ZONE 'UTC')::date - (p_days - 1);
BEGIN
    IF p_days IS NULL OR p_days < 1 THEN
        PERFORM private.raise_error('invalid_input', 'the window is at least one day');
    END IF;
    RETURN QUERY
    SELECT
        c.channel,
        v_first,
        o.confirmed,
        o.retried,
        o.dead,
        CASE WHEN o.total = 0 THEN NULL
            ELSE (o.retried + o.dead)::double precision / o.total END,
        l.samples,
        private.histogram_median(private.create_to_confirm_bounds(), l.counts)
    FROM (VALUES ('canary'), ('stable')) AS c (channel)
    CROSS JOIN LATERAL (
        SELECT
            coalesce(sum(r.count) FILTER (WHERE r.bucket = 'confirmed'), 0)::bigint AS confirmed,
            coalesce(sum(r.count) FILTER (WHERE r.bucket = 'retried'), 0)::bigint AS retried,
            coalesce(sum(r.count) FILTER (WHERE r.bucket = 'dead'), 0)::bigint AS dead,
            coalesce(sum(r.count), 0)::bigint AS total
        FROM private.release_channel_daily AS r
        WHERE r.channel = c.channel AND r.metric = 'sync_outcome' AND r.day >= v_first
    ) AS o
    CROSS JOIN LATERAL (
        SELECT
            array_agg(coalesce(s.n, 0) ORDER BY b.i) AS counts,
            coalesce(sum(s.n), 0)::bigint AS samples
        FROM unnest(private.create_to_confirm_bounds()::text [] || 'inf'::text)
            WITH ORDINALITY AS b (bucket, i)
        LEFT JOIN LATERAL (
            SELECT sum(r.count)::bigint AS n
            FROM private.release_channel_daily AS r
            WHERE r.channel = c.channel AND r.metric = 'create_to_confirm_ms'
                AND r.bucket = b.bucket AND r.day >= v_first
        ) AS s ON true
    ) AS l
    ORDER BY c.channel;
END;
$$;

REVOKE ALL ON FUNCTION public.release_health(integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.release_health(integer) TO service_role;
