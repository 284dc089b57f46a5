-- Render provider events already applied to clip jobs, so that a redelivered event is a no-op,
-- and the index behind the dispatcher's queue of jobs not yet accepted by the provider.
-- Every statement is safe to run twice.

CREATE TABLE IF NOT EXISTS private.clip_events (
    event_id text PRIMARY KEY CHECK (char_length(event_id) BETWEEN 1 AND 200),
    job_id uuid NOT NULL REFERENCES public.clip_jobs (id) ON DELETE CASCADE,
    status text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    outcome text NOT NULL CHECK (outcome IN ('applied', 'stale'))
);

CREATE INDEX IF NOT EXISTS ix_clip_events_job ON private.clip_events (job_id);

ALTER TABLE private.clip_events ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON private.clip_events FROM public, anon, authenticated;
GRANT SELECT, INSERT ON private.clip_events TO service_role;

CREATE INDEX IF NOT EXISTS ix_clip_jobs_awaiting_dispatch
ON public.clip_jobs (submitted_at, id)
WHERE status = 'queued' AND provider_job_id IS NULL;
