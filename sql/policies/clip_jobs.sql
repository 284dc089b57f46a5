-- clip_jobs: the owner may read their rows; every change goes through a contract function or the
-- service role.

GRANT SELECT ON public.clip_jobs TO authenticated;

DROP POLICY IF EXISTS clip_jobs_select_own ON public.clip_jobs;
CREATE POLICY clip_jobs_select_own ON public.clip_jobs
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));
