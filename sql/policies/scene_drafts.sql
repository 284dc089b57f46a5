-- scene_drafts: the owner reads, creates and changes their rows; rows are never hard-deleted by a user
-- (soft delete keeps a tombstone that syncs).

GRANT SELECT, INSERT, UPDATE ON public.scene_drafts TO authenticated;

DROP POLICY IF EXISTS scene_drafts_select_own ON public.scene_drafts;
CREATE POLICY scene_drafts_select_own ON public.scene_drafts
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS scene_drafts_insert_own ON public.scene_drafts;
CREATE POLICY scene_drafts_insert_own ON public.scene_drafts
FOR INSERT TO authenticated
WITH CHECK (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS scene_drafts_update_own ON public.scene_drafts;
CREATE POLICY scene_drafts_update_own ON public.scene_drafts
FOR UPDATE TO authenticated
USING (user_id = (SELECT auth.uid()))
WITH CHECK (user_id = (SELECT auth.uid()));
