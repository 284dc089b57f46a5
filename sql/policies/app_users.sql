-- app_users: a user may read their own row; rows are created by the sign-up trigger.

GRANT SELECT ON public.app_users TO authenticated;

DROP POLICY IF EXISTS app_users_select_own ON public.app_users;
CREATE POLICY app_users_select_own ON public.app_users
FOR SELECT TO authenticated
USING (id = (SELECT auth.uid()));
