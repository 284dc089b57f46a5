-- Clip jobs and credit transactions reference their credits account by (user_key, user_id), one
-- foreign key where there were two (the account, and the user separately): each insert checks
-- one key instead of two, and the integrity is stronger than before. The row's user must be the
-- account's owner (before, any existing user was accepted), that owner exists (credits_ledger's
-- own key to app_users), and deleting the user or the account still deletes the rows (the
-- account's cascade). Each new key is indexed by an index starting with its columns, which
-- replaces the index of the account key alone.
-- Every statement is safe to run twice.

CREATE UNIQUE INDEX IF NOT EXISTS credits_ledger_account_key
ON public.credits_ledger (user_key, user_id);

CREATE INDEX IF NOT EXISTS ix_clip_jobs_account ON public.clip_jobs (user_key, user_id);
CREATE INDEX IF NOT EXISTS ix_credit_transactions_account
ON public.credit_transactions (user_key, user_id, created_at);

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_constraint WHERE conname = 'credits_ledger_account_key'
    ) THEN
        ALTER TABLE public.credits_ledger
        ADD CONSTRAINT credits_ledger_account_key
        UNIQUE USING INDEX credits_ledger_account_key;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'clip_jobs_account_fkey') THEN
        ALTER TABLE public.clip_jobs
        ADD CONSTRAINT clip_jobs_account_fkey FOREIGN KEY (user_key, user_id)
        REFERENCES public.credits_ledger (user_key, user_id) ON DELETE CASCADE NOT VALID;
    END IF;
    IF NOT EXISTS (
        SELECT FROM pg_constraint WHERE conname = 'credit_transactions_account_fkey'
    ) THEN
        ALTER TABLE public.credit_transactions
        ADD CONSTRAINT credit_transactions_account_fkey FOREIGN KEY (user_key, user_id)
        REFERENCES public.credits_ledger (user_key, user_id) ON DELETE CASCADE NOT VALID;
    END IF;
END
$$;

ALTER TABLE public.clip_jobs VALIDATE CONSTRAINT clip_jobs_account_fkey;
ALTER TABLE public.credit_transactions VALIDATE CONSTRAINT credit_transactions_account_fkey;

ALTER TABLE public.clip_jobs DROP CONSTRAINT IF EXISTS clip_jobs_user_key_fkey;
ALTER TABLE public.clip_jobs DROP CONSTRAINT IF EXISTS clip_jobs_user_id_fkey;
ALTER TABLE public.credit_transactions DROP CONSTRAINT IF EXISTS credit_transactions_user_key_fkey;
ALTER TABLE public.credit_transactions DROP CONSTRAINT IF EXISTS credit_transactions_user_id_fkey;

DROP INDEX IF EXISTS public.ix_clip_jobs_user_key;
DROP INDEX IF EXISTS public.ix_credit_transactions_user_key;
