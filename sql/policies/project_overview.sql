-- project_overview: the owner reads, creates and changes their rows; rows are never hard-deleted by a user
-- (soft delete keeps a tombstone that syncs).

GRANT SELECT, INSERT, UPDATE ON public.project_overview TO authenticated;

DROP POLICY IF EXISTS project_overview_select_own ON public.project_overview;
CREATE POLICY project_overview_select_own ON public.project_overview
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS project_overview_insert_own ON public.project_overview;
CREATE POLICY project_overview_insert_own ON public.project_overview
FOR INSERT TO authenticated
WITH CHECK (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS project_overview_update_own ON public.project_overview;
CREATE POLICY project_overview_update_own ON public.project_overview
FOR UPDATE TO authenticated
USING (user_id = (SELECT auth.uid()))
WITH CHECK (user_id = (SELECT auth.uid()));
