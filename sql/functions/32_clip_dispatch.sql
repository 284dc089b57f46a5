-- Clip dispatch in three steps, each its own short transaction: claim a queued job with a lease,
-- call the render provider with no transaction open, record the outcome (record_clip_dispatch)
-- and release the lease. A new job is announced after commit on the channel clip_dispatch
-- (pg_notify), which the local stack's dispatcher listens to; hosted, a Database Webhook on the
-- same insert calls the functions' dispatch entry point (docs/functions.md).

-- Claims a job for dispatch until now() + p_lease_seconds. Claimed only while the job is queued,
-- not yet accepted by the provider, not deleted, and no other valid lease holds it; an expired
-- lease is taken over. Returns {"claimed", "token", "job"}; token is null when not claimed.
CREATE OR REPLACE FUNCTION public.claim_clip_dispatch(
    p_job_id uuid, p_lease_seconds double precision DEFAULT 60
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_job public.clip_jobs;
    v_token uuid;
BEGIN
    IF p_job_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'the job id is required');
    END IF;
    IF p_lease_seconds IS NULL OR p_lease_seconds NOT BETWEEN 1 AND 3600 THEN
        PERFORM private.raise_error(
            'invalid_input', 'the lease must last between 1 and 3600 seconds'
        );
    END IF;
    -- A lease lost in a crash only makes the job claimable again: its commit need not wait for
    -- the WAL flush.
    PERFORM set_config('synchronous_commit', 'off', true);
    -- The job lock orders a claim after a concurrent record of the same job.
    SELECT * INTO v_job FROM public.clip_jobs WHERE id = p_job_id FOR UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', 'no such clip job');
    END IF;
    IF v_job.status <> 'queued' OR v_job.provider_job_id IS NOT NULL
        OR v_job.deleted_at IS NOT NULL
    THEN
        RETURN jsonb_build_object('claimed', false, 'token', NULL, 'job', to_jsonb(v_job));
    END IF;

    INSERT INTO private.clip_dispatch_leases AS l (job_id, token, claimed_at, lease_until)
    VALUES (
        p_job_id, gen_random_uuid(), now(), now() + make_interval(secs => p_lease_seconds)
    )
    ON CONFLICT (job_id) DO UPDATE
    SET token = excluded.token,
        claimed_at = excluded.claimed_at,
        lease_until = excluded.lease_until,
        claims = l.claims + 1
    WHERE l.lease_until <= now()
    RETURNING l.token INTO v_token;
    RETURN jsonb_build_object(
        'claimed', v_token IS NOT NULL, 'token', v_token, 'job', to_jsonb(v_job)
    );
END;
$$;

REVOKE ALL ON FUNCTION public.claim_clip_dispatch(uuid, double precision)
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.claim_clip_dispatch(uuid, double precision) TO service_role;

-- Ends the lease p_token holds on the job (a lease taken over since is left alone). Returns
-- whether it was released.
CREATE OR REPLACE FUNCTION public.release_clip_dispatch(p_job_id uuid, p_token uuid)
RETURNS boolean
LANGUAGE sql
SET search_path = ''
AS $$
    WITH released AS (
        DELETE FROM private.clip_dispatch_leases
        WHERE job_id = p_job_id AND token = p_token
        RETURNING job_id
    )
    SELECT EXISTS (SELECT FROM released)
$$;

REVOKE ALL ON FUNCTION public.release_clip_dispatch(uuid, uuid)
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.release_clip_dispatch(uuid, uuid) TO service_role;

-- Announces a new job to the local stack's dispatcher (delivered when the creating transaction
-- commits), once one has announced itself in private.notify_listeners. Hosted, a Database
-- Webhook takes its place and nobody listens: a NOTIFY would only serialise the commits of every
-- notifying transaction (PostgreSQL holds one lock across each one's commit flush).
CREATE OR REPLACE FUNCTION private.notify_clip_dispatch()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF EXISTS (SELECT FROM private.notify_listeners WHERE channel = 'clip_dispatch') THEN
        PERFORM pg_notify('clip_dispatch', NEW.id::text);
    END IF;
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION private.notify_clip_dispatch() FROM public;

CREATE OR REPLACE TRIGGER t90_notify_clip_dispatch
AFTER INSERT ON public.clip_jobs
FOR EACH ROW EXECUTE FUNCTION private.notify_clip_dispatch();
