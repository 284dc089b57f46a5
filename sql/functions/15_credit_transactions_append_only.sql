-- credit_transactions is append-only: rows are never updated, and deleted only by the cascade
-- of an account deletion.

CREATE OR REPLACE FUNCTION private.forbid_credit_transaction_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF tg_op = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
    END IF;
    PERFORM private.raise_error('forbidden', 'credit transactions are append-only');
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION private.forbid_credit_transaction_change() FROM public;

CREATE OR REPLACE TRIGGER t10_forbid_credit_transaction_change
BEFORE UPDATE OR DELETE ON public.credit_transactions
FOR EACH ROW EXECUTE FUNCTION private.forbid_credit_transaction_change();
