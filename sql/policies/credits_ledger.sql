-- credits_ledger: the owner may read their rows; every change goes through a contract function or the
-- service role.

GRANT SELECT ON public.credits_ledger TO authenticated;

DROP POLICY IF EXISTS credits_ledger_select_own ON public.credits_ledger;
CREATE POLICY credits_ledger_select_own ON public.credits_ledger
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));
