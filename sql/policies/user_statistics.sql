-- user_statistics: the owner may read their rows; every change goes through a contract function or the
-- service role.

GRANT SELECT ON public.user_statistics TO authenticated;

DROP POLICY IF EXISTS user_statistics_select_own ON public.user_statistics;
CREATE POLICY user_statistics_select_own ON public.user_statistics
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));
