-- Credit buckets: an account charged by many requests at once spreads part of its balance over
-- up to 16 bucket rows, so concurrent charges each take a credit from a different row instead of
-- queueing on the account row until each one's commit is flushed. The account's balance is its
-- row's credits plus the credits of its buckets; every balance change is still one
-- credit_transactions row, so the sum of the ledger equals that balance.
-- Existing balances stay where they are: the account row is the account's first bucket and an
-- account has no bucket rows until concurrent charges spread its credits (nothing to move).
-- Every statement is safe to run twice.

CREATE TABLE IF NOT EXISTS private.credit_buckets (
    user_key text NOT NULL REFERENCES public.credits_ledger (user_key) ON DELETE CASCADE,
    bucket smallint NOT NULL CHECK (bucket BETWEEN 1 AND 16),
    credits integer NOT NULL DEFAULT 0 CHECK (credits >= 0),
    PRIMARY KEY (user_key, bucket)
);

ALTER TABLE private.credit_buckets ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON private.credit_buckets FROM public, anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON private.credit_buckets TO service_role;
