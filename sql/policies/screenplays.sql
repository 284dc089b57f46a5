-- screenplays: the owner reads, creates and changes their rows; rows are never hard-deleted by a user
-- (soft delete keeps a tombstone that syncs).

GRANT SELECT, INSERT, UPDATE ON public.screenplays TO authenticated;

DROP POLICY IF EXISTS screenplays_select_own ON public.screenplays;
CREATE POLICY screenplays_select_own ON public.screenplays
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS screenplays_insert_own ON public.screenplays;
CREATE POLICY screenplays_insert_own ON public.screenplays
FOR INSERT TO authenticated
WITH CHECK (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS screenplays_update_own ON public.screenplays;
CREATE POLICY screenplays_update_own ON public.screenplays
FOR UPDATE TO authenticated
USING (user_id = (SELECT auth.uid()))
WITH CHECK (user_id = (SELECT auth.uid()));
