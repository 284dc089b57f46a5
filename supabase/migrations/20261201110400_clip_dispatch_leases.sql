-- Dispatch leases: a dispatcher claims a queued job for a bounded time before it calls the
-- render provider (outside any transaction), so concurrent dispatchers (the enqueue request,
-- the change notification, the scheduled retry) never send a job twice while a lease is valid;
-- a lease left by a dispatcher that stopped expires and the job is claimed again.
-- Every statement is safe to run twice.

CREATE TABLE IF NOT EXISTS private.clip_dispatch_leases (
    job_id uuid PRIMARY KEY REFERENCES public.clip_jobs (id) ON DELETE CASCADE,
    token uuid NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz NOT NULL,
    claims integer NOT NULL DEFAULT 1 CHECK (claims >= 1),
    CHECK (lease_until > claimed_at)
);

CREATE INDEX IF NOT EXISTS ix_clip_dispatch_leases_until
ON private.clip_dispatch_leases (lease_until);

ALTER TABLE private.clip_dispatch_leases ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON private.clip_dispatch_leases FROM public, anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON private.clip_dispatch_leases TO service_role;
