-- continuity_logs: append-only for the owner (read and insert, never change).

GRANT SELECT, INSERT ON public.continuity_logs TO authenticated;

DROP POLICY IF EXISTS continuity_logs_select_own ON public.continuity_logs;
CREATE POLICY continuity_logs_select_own ON public.continuity_logs
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS continuity_logs_insert_own ON public.continuity_logs;
CREATE POLICY continuity_logs_insert_own ON public.continuity_logs
FOR INSERT TO authenticated
WITH CHECK (user_id = (SELECT auth.uid()));
