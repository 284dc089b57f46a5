-- sync_metrics: the owner may read their rows; counts arrive only through
-- public.record_sync_metrics.

GRANT SELECT ON public.sync_metrics TO authenticated;

DROP POLICY IF EXISTS sync_metrics_select_own ON public.sync_metrics;
CREATE POLICY sync_metrics_select_own ON public.sync_metrics
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));
