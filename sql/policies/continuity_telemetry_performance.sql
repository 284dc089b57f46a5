-- continuity_telemetry_performance: the owner may read their rows; every change goes through a contract function or the
-- service role.

GRANT SELECT ON public.continuity_telemetry_performance TO authenticated;

DROP POLICY IF EXISTS continuity_telemetry_performance_select_own ON public.continuity_telemetry_performance;
CREATE POLICY continuity_telemetry_performance_select_own ON public.continuity_telemetry_performance
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));
