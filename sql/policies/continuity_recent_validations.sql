-- continuity_recent_validations: the owner may read their rows; every change goes through a contract function or the
-- service role.

GRANT SELECT ON public.continuity_recent_validations TO authenticated;

DROP POLICY IF EXISTS continuity_recent_validations_select_own ON public.continuity_recent_validations;
CREATE POLICY continuity_recent_validations_select_own ON public.continuity_recent_validations
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));
