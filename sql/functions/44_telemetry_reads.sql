-- What a signed-in user reads back of their own telemetry over rpc (used by the smoke test).
-- Both run as the caller, so row level security decides what is visible.

-- The caller's telemetry counters from p_since (UTC day; every day when NULL), by day, element.
CREATE OR REPLACE FUNCTION public.list_my_telemetry(p_since date DEFAULT NULL)
RETURNS SETOF public.continuity_telemetry
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT t.*
    FROM public.continuity_telemetry AS t
    WHERE t.user_id = (SELECT auth.uid()) AND (p_since IS NULL OR t.day >= p_since)
    ORDER BY t.day, t.element
$$;

-- The caller's sync metrics from p_since (every day when NULL), by day, metric and bucket.
CREATE OR REPLACE FUNCTION public.list_my_sync_metrics(p_since date DEFAULT NULL)
RETURNS SETOF public.sync_metrics
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT m.*
    FROM public.sync_metrics AS m
    WHERE m.user_id = (SELECT auth.uid()) AND (p_since IS NULL OR m.day >= p_since)
    ORDER BY m.day, m.channel, m.metric, m.bucket
$$;

REVOKE ALL ON FUNCTION public.list_my_telemetry(date) FROM public, anon;
REVOKE ALL ON FUNCTION public.list_my_sync_metrics(date) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.list_my_telemetry(date) TO authenticated;
GRANT EXECUTE ON FUNCTION public.list_my_sync_metrics(date) TO authenticated;
