-- Sync bookkeeping: the outcome of every mutation pushed through public.sync_push, keyed by the
-- pushing client and its mutation id, so that a batch replayed after a lost acknowledgement is
-- answered from here instead of being applied again. Written only by a SECURITY DEFINER helper in
-- the same transaction as the mutation's effect; users have no privilege on it.
-- Every statement is safe to run twice.

CREATE TABLE IF NOT EXISTS private.sync_mutations (
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    client_id uuid NOT NULL,
    mutation_id bigint NOT NULL CHECK (mutation_id >= 0),
    outcome jsonb NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, mutation_id)
);

CREATE INDEX IF NOT EXISTS ix_sync_mutations_user ON private.sync_mutations (user_id);

ALTER TABLE private.sync_mutations ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON private.sync_mutations FROM public, anon, authenticated;
