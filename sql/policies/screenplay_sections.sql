-- screenplay_sections: the owner reads, creates and changes their rows; rows are never hard-deleted by a user
-- (soft delete keeps a tombstone that syncs).

GRANT SELECT, INSERT, UPDATE ON public.screenplay_sections TO authenticated;

DROP POLICY IF EXISTS screenplay_sections_select_own ON public.screenplay_sections;
CREATE POLICY screenplay_sections_select_own ON public.screenplay_sections
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS screenplay_sections_insert_own ON public.screenplay_sections;
CREATE POLICY screenplay_sections_insert_own ON public.screenplay_sections
FOR INSERT TO authenticated
WITH CHECK (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS screenplay_sections_update_own ON public.screenplay_sections;
CREATE POLICY screenplay_sections_update_own ON public.screenplay_sections
FOR UPDATE TO authenticated
USING (user_id = (SELECT auth.uid()))
WITH CHECK (user_id = (SELECT auth.uid()));
