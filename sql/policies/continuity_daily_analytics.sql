-- continuity_daily_analytics: the owner may read their rows; every change goes through a contract function or the
-- service role.

GRANT SELECT ON public.continuity_daily_analytics TO authenticated;

DROP POLICY IF EXISTS continuity_daily_analytics_select_own ON public.continuity_daily_analytics;
CREATE POLICY continuity_daily_analytics_select_own ON public.continuity_daily_analytics
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));
