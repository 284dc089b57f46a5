-- credit_transactions: the owner may read their rows; every change goes through a contract function or the
-- service role.

GRANT SELECT ON public.credit_transactions TO authenticated;

DROP POLICY IF EXISTS credit_transactions_select_own ON public.credit_transactions;
CREATE POLICY credit_transactions_select_own ON public.credit_transactions
FOR SELECT TO authenticated
USING (user_id = (SELECT auth.uid()));
