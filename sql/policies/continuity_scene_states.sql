-- continuity_scene_states: the owner reads, creates and changes their rows; rows are never hard-deleted by a user
-- (soft delete keeps a tombstone that syncs).

GRANT SELECT, INSERT, UPDATE ON public.continuity_scene_states TO authenticated;
GRANT USAGE ON SEQUENCE public.continuity_scene_states_id_seq TO authenticated;

DROP POLICY IF EXISTS continuity_scene_states_select_own ON public.continuity_scene_states;
CREATE POLICY continuity_scene_states_select_own ON public.continuity_scene_states
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS continuity_scene_states_insert_own ON public.continuity_scene_states;
CREATE POLICY continuity_scene_states_insert_own ON public.continuity_scene_states
FOR INSERT TO authenticated
WITH CHECK (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS continuity_scene_states_update_own ON public.continuity_scene_states;
CREATE POLICY continuity_scene_states_update_own ON public.continuity_scene_states
FOR UPDATE TO authenticated
USING (user_id = (SELECT auth.uid()))
WITH CHECK (user_id = (SELECT auth.uid()));
