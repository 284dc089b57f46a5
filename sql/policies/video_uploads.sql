-- video_uploads: the owner reads, creates and changes their rows; rows are never hard-deleted by a user
-- (soft delete keeps a tombstone that syncs).

GRANT SELECT, INSERT, UPDATE ON public.video_uploads TO authenticated;

DROP POLICY IF EXISTS video_uploads_select_own ON public.video_uploads;
CREATE POLICY video_uploads_select_own ON public.video_uploads
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS video_uploads_insert_own ON public.video_uploads;
CREATE POLICY video_uploads_insert_own ON public.video_uploads
FOR INSERT TO authenticated
WITH CHECK (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS video_uploads_update_own ON public.video_uploads;
CREATE POLICY video_uploads_update_own ON public.video_uploads
FOR UPDATE TO authenticated
USING (user_id = (SELECT auth.uid()))
WITH CHECK (user_id = (SELECT auth.uid()));
