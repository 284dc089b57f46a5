-- continuity_telemetry: the owner may read their rows; every change goes through a contract function or the
-- service role.

GRANT SELECT ON public.continuity_telemetry TO authenticated;

DROP POLICY IF EXISTS continuity_telemetry_select_own ON public.continuity_telemetry;
CREATE POLICY continuity_telemetry_select_own ON public.continuity_telemetry
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));
