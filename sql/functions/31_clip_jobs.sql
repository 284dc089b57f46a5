-- Clip jobs: enqueue (charging the account in the same transaction), status, list and cancel for
-- the owner; provider events, dispatch bookkeeping and the dispatch queue for the service role.
--
-- clip_jobs and credits_ledger are read-only to users, so the owner's writes (enqueue, cancel)
-- run as SECURITY DEFINER in schema private (which the API does not expose) and check the caller
-- themselves; their public functions are SECURITY INVOKER wrappers with the same arguments. Locks are always taken job first,
-- then account (enqueue creates its job first and charges it last, so the account row or credit
-- bucket it charges is held for as short a time as possible).

-- Gives back what a job was charged, exactly once: the free first clip becomes available again,
-- a paid clip returns its credit. Returns the job.
CREATE OR REPLACE FUNCTION private.refund_clip_job(p_job_id uuid)
RETURNS public.clip_jobs
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_job public.clip_jobs;
    v_key text := 'refund:' || p_job_id::text;
BEGIN
    SELECT * INTO v_job FROM public.clip_jobs WHERE id = p_job_id FOR UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', 'no such clip job');
    END IF;
    PERFORM
    FROM public.credits_ledger
    WHERE user_key = v_job.user_key
    FOR NO KEY UPDATE;

    IF v_job.status NOT IN ('failed', 'canceled') THEN
        PERFORM private.raise_error(
            'invalid_transition',
            format('clip job %s is %s: only failed or canceled jobs are refunded', v_job.id,
                v_job.status)
        );
    END IF;
    IF v_job.refunded_at IS NOT NULL
        OR EXISTS (SELECT FROM public.credit_transactions WHERE idempotency_key = v_key)
    THEN
        RETURN v_job;
    END IF;

    IF v_job.charge = 'free' THEN
        UPDATE public.credits_ledger
        SET first_clip_consumed = false
        WHERE user_key = v_job.user_key;
    ELSE
        UPDATE public.credits_ledger
        SET credits = credits + 1
        WHERE user_key = v_job.user_key;
    END IF;

    INSERT INTO public.credit_transactions
        (idempotency_key, user_key, user_id, kind, delta, balance_after, clip_job_id, reason)
    VALUES (
        v_key, v_job.user_key, v_job.user_id,
        CASE v_job.charge WHEN 'free' THEN 'first_clip_refund' ELSE 'refund' END,
        CASE v_job.charge WHEN 'free' THEN 0 ELSE 1 END,
        private.account_credits(v_job.user_key), v_job.id, 'clip job ' || v_job.status
    );

    UPDATE public.clip_jobs SET refunded_at = now() WHERE id = p_job_id
    RETURNING * INTO v_job;
    RETURN v_job;
END;
$$;

REVOKE ALL ON FUNCTION private.refund_clip_job(uuid) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.refund_clip_job(uuid) TO service_role;

-- The project and scene draft a new clip renders must be the caller's and live, and the scene
-- draft must belong to the project.
CREATE OR REPLACE FUNCTION private.check_clip_targets(
    p_user uuid, p_project_id uuid, p_scene_draft_id uuid
)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_draft_project uuid;
BEGIN
    IF p_project_id IS NOT NULL AND NOT EXISTS (
        SELECT FROM public.project_overview
        WHERE project_id = p_project_id AND user_id = p_user AND deleted_at IS NULL
    ) THEN
        PERFORM private.raise_error('not_found', 'no such project');
    END IF;
    IF p_scene_draft_id IS NOT NULL THEN
        SELECT project_id INTO v_draft_project
        FROM public.scene_drafts
        WHERE id = p_scene_draft_id AND user_id = p_user AND deleted_at IS NULL;
        IF NOT found THEN
            PERFORM private.raise_error('not_found', 'no such scene draft');
        END IF;
        IF p_project_id IS NOT NULL AND v_draft_project <> p_project_id THEN
            PERFORM private.raise_error(
                'invalid_input', 'the scene draft belongs to another project'
            );
        END IF;
    END IF;
END;
$$;

-- Charges a new job to its account: the free first clip (the account row locked by the caller),
-- or one credit from the account row or one of its buckets, recorded once under the job's
-- consume key with the balance after it.
CREATE OR REPLACE FUNCTION private.charge_clip_job(p_job public.clip_jobs)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_balance integer;
BEGIN
    IF p_job.charge = 'free' THEN
        UPDATE public.credits_ledger
        SET first_clip_consumed = true
        WHERE user_key = p_job.user_key;
        v_balance := private.account_credits(p_job.user_key);
    ELSE
        v_balance := private.take_credit(p_job.user_key);
    END IF;

    -- Inserted after the charge, not with it: the transaction's id is drawn once the charge
    -- holds its credit, so an account's transactions are numbered in the order of its charges.
    INSERT INTO public.credit_transactions
        (idempotency_key, user_key, user_id, kind, delta, balance_after, clip_job_id)
    VALUES (
        'consume:' || p_job.id::text, p_job.user_key, p_job.user_id,
        CASE p_job.charge WHEN 'free' THEN 'first_clip' ELSE 'consume' END,
        CASE p_job.charge WHEN 'free' THEN 0 ELSE -1 END,
        v_balance, p_job.id
    );
END;
$$;

-- A request for a job id that exists: the job when it is the same request (a replay, charged
-- nothing), else id_conflict.
CREATE OR REPLACE FUNCTION private.replayed_clip_job(
    p_job public.clip_jobs,
    p_user uuid,
    p_user_key text,
    p_prompt text,
    p_project_id uuid,
    p_scene_draft_id uuid
)
RETURNS public.clip_jobs
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF (p_job.user_id, p_job.user_key, p_job.prompt, p_job.project_id, p_job.scene_draft_id)
        IS DISTINCT FROM (p_user, p_user_key, p_prompt, p_project_id, p_scene_draft_id)
    THEN
        PERFORM private.raise_error(
            'id_conflict', 'the job id was already used for a different clip',
            jsonb_build_object('job_id', p_job.id)
        );
    END IF;
    RETURN p_job;
END;
$$;

-- What a new job of the account costs: its free first clip while that is unused (deciding it
-- under the account row's lock, which it then keeps), else a credit.
CREATE OR REPLACE FUNCTION private.clip_charge_kind(p_ledger public.credits_ledger)
RETURNS text
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_free boolean;
BEGIN
    IF NOT p_ledger.first_clip_granted OR p_ledger.first_clip_consumed THEN
        RETURN 'credit';
    END IF;
    SELECT first_clip_granted AND NOT first_clip_consumed INTO v_free
    FROM public.credits_ledger
    WHERE user_key = p_ledger.user_key
    FOR NO KEY UPDATE;
    RETURN CASE WHEN v_free THEN 'free' ELSE 'credit' END;
END;
$$;

-- They run only inside private.enqueue_clip_job, as its owner.
REVOKE ALL ON FUNCTION private.check_clip_targets(uuid, uuid, uuid)
FROM public, anon, authenticated;
REVOKE ALL ON FUNCTION private.charge_clip_job(public.clip_jobs) FROM public, anon, authenticated;
REVOKE ALL ON FUNCTION private.replayed_clip_job(
    public.clip_jobs, uuid, text, text, uuid, uuid
) FROM public, anon, authenticated;
REVOKE ALL ON FUNCTION private.clip_charge_kind(public.credits_ledger)
FROM public, anon, authenticated;

-- Creates the job and charges it: the account's first clip is free exactly once, later clips
-- cost one credit, otherwise insufficient_credits and nothing is created (the raise undoes the
-- job). A replay of the same request, concurrent or later, returns the job and charges nothing.
CREATE OR REPLACE FUNCTION private.enqueue_clip_job(
    p_job_id uuid,
    p_user_key text,
    p_prompt text,
    p_project_id uuid,
    p_scene_draft_id uuid
)
RETURNS public.clip_jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_ledger public.credits_ledger;
    v_job public.clip_jobs;
    v_charge text;
BEGIN
    IF p_job_id IS NULL OR p_user_key IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'a job id and a user key are required');
    END IF;
    IF p_prompt IS NULL OR char_length(p_prompt) NOT BETWEEN 1 AND 2000 THEN
        PERFORM private.raise_error('invalid_input', 'the prompt must have 1 to 2000 characters');
    END IF;

    SELECT * INTO v_ledger
    FROM public.credits_ledger
    WHERE user_key = p_user_key AND user_id = v_user;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', 'no such credits account');
    END IF;

    SELECT * INTO v_job FROM public.clip_jobs WHERE id = p_job_id;
    IF found THEN
        RETURN private.replayed_clip_job(
            v_job, v_user, p_user_key, p_prompt, p_project_id, p_scene_draft_id
        );
    END IF;

    IF p_project_id IS NOT NULL OR p_scene_draft_id IS NOT NULL THEN
        PERFORM private.check_clip_targets(v_user, p_project_id, p_scene_draft_id);
    END IF;
    v_charge := 'credit';
    IF v_ledger.first_clip_granted AND NOT v_ledger.first_clip_consumed THEN
        v_charge := private.clip_charge_kind(v_ledger);
    END IF;

    INSERT INTO public.clip_jobs
        (id, user_id, user_key, project_id, scene_draft_id, prompt, charge)
    VALUES (p_job_id, v_user, p_user_key, p_project_id, p_scene_draft_id, p_prompt, v_charge)
    ON CONFLICT (id) DO NOTHING
    RETURNING * INTO v_job;
    IF NOT found THEN
        -- Created by a concurrent request, now committed: a replay or another clip.
        SELECT * INTO v_job FROM public.clip_jobs WHERE id = p_job_id;
        RETURN private.replayed_clip_job(
            v_job, v_user, p_user_key, p_prompt, p_project_id, p_scene_draft_id
        );
    END IF;

    -- Charged last, after every other write, so the account row or the credit bucket it takes
    -- is held only until the commit.
    PERFORM private.charge_clip_job(v_job);
    RETURN v_job;
END;
$$;

REVOKE ALL ON FUNCTION private.enqueue_clip_job(uuid, text, text, uuid, uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.enqueue_clip_job(uuid, text, text, uuid, uuid)
TO authenticated, service_role;

-- The API of private.enqueue_clip_job, running as the caller.
CREATE OR REPLACE FUNCTION public.enqueue_clip_job(
    p_job_id uuid,
    p_user_key text,
    p_prompt text,
    p_project_id uuid DEFAULT NULL,
    p_scene_draft_id uuid DEFAULT NULL
)
RETURNS public.clip_jobs
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
    -- PL/pgSQL, not SQL: a SQL function with a SET clause is planned again at every call.
    RETURN private.enqueue_clip_job(
        p_job_id, p_user_key, p_prompt, p_project_id, p_scene_draft_id
    );
END;
$$;

REVOKE ALL ON FUNCTION public.enqueue_clip_job(uuid, text, text, uuid, uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.enqueue_clip_job(uuid, text, text, uuid, uuid)
TO authenticated, service_role;

-- The caller's job.
CREATE OR REPLACE FUNCTION public.get_clip_job_status(p_job_id uuid)
RETURNS public.clip_jobs
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_job public.clip_jobs;
BEGIN
    SELECT * INTO v_job FROM public.clip_jobs WHERE id = p_job_id AND user_id = v_user;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', 'no such clip job');
    END IF;
    RETURN v_job;
END;
$$;

REVOKE ALL ON FUNCTION public.get_clip_job_status(uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.get_clip_job_status(uuid) TO authenticated, service_role;

-- The caller's jobs, newest first, one page at a time.
CREATE OR REPLACE FUNCTION public.list_clip_jobs(
    p_limit integer DEFAULT 50, p_offset integer DEFAULT 0
)
RETURNS SETOF public.clip_jobs
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 200 THEN
        PERFORM private.raise_error('invalid_input', 'the limit must be between 1 and 200');
    END IF;
    IF p_offset IS NULL OR p_offset < 0 THEN
        PERFORM private.raise_error('invalid_input', 'the offset must not be negative');
    END IF;
    RETURN QUERY
    SELECT j.*
    FROM public.clip_jobs AS j
    WHERE j.user_id = v_user AND j.deleted_at IS NULL
    ORDER BY j.submitted_at DESC, j.id
    LIMIT p_limit OFFSET p_offset;
END;
$$;

REVOKE ALL ON FUNCTION public.list_clip_jobs(integer, integer) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.list_clip_jobs(integer, integer) TO authenticated, service_role;

-- Cancels the caller's job while it is queued or processing and refunds it once; repeating the
-- call returns the canceled job.
CREATE OR REPLACE FUNCTION private.cancel_clip_job(p_job_id uuid)
RETURNS public.clip_jobs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_job public.clip_jobs;
BEGIN
    SELECT * INTO v_job
    FROM public.clip_jobs
    WHERE id = p_job_id AND user_id = v_user
    FOR UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', 'no such clip job');
    END IF;
    IF v_job.status = 'canceled' THEN
        RETURN v_job;
    END IF;
    IF v_job.status NOT IN ('queued', 'processing') THEN
        PERFORM private.raise_error(
            'invalid_transition',
            format('clip job %s is %s and can no longer be canceled', v_job.id, v_job.status),
            jsonb_build_object('from', v_job.status, 'to', 'canceled')
        );
    END IF;

    UPDATE public.clip_jobs SET status = 'canceled' WHERE id = p_job_id;
    RETURN private.refund_clip_job(p_job_id);
END;
$$;

REVOKE ALL ON FUNCTION private.cancel_clip_job(uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.cancel_clip_job(uuid) TO authenticated, service_role;

-- The API of private.cancel_clip_job, running as the caller.
CREATE OR REPLACE FUNCTION public.cancel_clip_job(p_job_id uuid)
RETURNS public.clip_jobs
LANGUAGE sql
SECURITY INVOKER
SET search_path = ''
AS $$
    SELECT private.cancel_clip_job(p_job_id)
$$;

REVOKE ALL ON FUNCTION public.cancel_clip_job(uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.cancel_clip_job(uuid) TO authenticated, service_role;

-- A render provider event. Each event id is applied at most once ('duplicate' afterwards).
-- processing raises progress (never lowers it); completed needs a download URL and passes a
-- queued job through processing; failed records the error and refunds once. An event for a job
-- in a final state, or one that would change nothing, is recorded as 'stale'. An event naming
-- another provider job id than the stored one is id_conflict and changes nothing.
CREATE OR REPLACE FUNCTION public.apply_clip_event(
    p_event_id text,
    p_job_id uuid,
    p_status text,
    p_progress integer DEFAULT NULL,
    p_download_url text DEFAULT NULL,
    p_error text DEFAULT NULL,
    p_provider_job_id text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_job public.clip_jobs;
    v_seen_job uuid;
    v_outcome text := 'applied';
    v_recorded text;
BEGIN
    IF p_event_id IS NULL OR char_length(p_event_id) NOT BETWEEN 1 AND 200 THEN
        PERFORM private.raise_error('invalid_input', 'the event id must have 1 to 200 characters');
    END IF;
    IF p_job_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'the job id is required');
    END IF;
    IF p_status IS NULL OR p_status NOT IN ('processing', 'completed', 'failed') THEN
        PERFORM private.raise_error(
            'invalid_input', 'the status must be processing, completed or failed',
            jsonb_build_object('status', p_status)
        );
    END IF;
    IF p_progress IS NOT NULL AND p_progress NOT BETWEEN 0 AND 100 THEN
        PERFORM private.raise_error('invalid_input', 'the progress must be between 0 and 100');
    END IF;
    IF p_status = 'completed' AND coalesce(p_download_url, '') = '' THEN
        PERFORM private.raise_error('invalid_input', 'a completed event needs a download URL');
    END IF;

    SELECT * INTO v_job FROM public.clip_jobs WHERE id = p_job_id FOR UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', 'no such clip job');
    END IF;

    SELECT job_id INTO v_seen_job FROM private.clip_events WHERE event_id = p_event_id;
    IF found THEN
        IF v_seen_job <> p_job_id THEN
            PERFORM private.raise_error(
                'id_conflict', 'the event id was already used for another job',
                jsonb_build_object('event_id', p_event_id)
            );
        END IF;
        RETURN jsonb_build_object('outcome', 'duplicate', 'job', to_jsonb(v_job));
    END IF;
    IF p_provider_job_id <> v_job.provider_job_id THEN
        PERFORM private.raise_error(
            'id_conflict', 'the event names another provider job than the clip job''s',
            jsonb_build_object('provider_job_id', p_provider_job_id)
        );
    END IF;

    IF v_job.status IN ('completed', 'failed', 'canceled') THEN
        v_outcome := 'stale';
    ELSIF p_status = 'processing' THEN
        IF v_job.status = 'processing'
            AND coalesce(p_progress, 0) <= v_job.progress
            AND (p_provider_job_id IS NULL
                OR p_provider_job_id IS NOT DISTINCT FROM v_job.provider_job_id)
        THEN
            v_outcome := 'stale';
        ELSE
            UPDATE public.clip_jobs
            SET status = 'processing',
                progress = greatest(progress, coalesce(p_progress, 0)),
                provider_job_id = coalesce(p_provider_job_id, provider_job_id)
            WHERE id = p_job_id
            RETURNING * INTO v_job;
        END IF;
    ELSIF p_status = 'completed' THEN
        IF v_job.status = 'queued' THEN
            UPDATE public.clip_jobs SET status = 'processing' WHERE id = p_job_id;
        END IF;
        UPDATE public.clip_jobs
        SET status = 'completed',
            download_url = p_download_url,
            provider_job_id = coalesce(p_provider_job_id, provider_job_id)
        WHERE id = p_job_id
        RETURNING * INTO v_job;
    ELSE
        UPDATE public.clip_jobs
        SET status = 'failed',
            error_message = coalesce(nullif(p_error, ''), 'the render failed'),
            provider_job_id = coalesce(p_provider_job_id, provider_job_id)
        WHERE id = p_job_id;
        v_job := private.refund_clip_job(p_job_id);
    END IF;

    INSERT INTO private.clip_events (event_id, job_id, status, outcome)
    VALUES (p_event_id, p_job_id, p_status, v_outcome)
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id INTO v_recorded;
    IF v_recorded IS NULL THEN
        -- Recorded concurrently for another job: this delivery is rolled back.
        PERFORM private.raise_error(
            'id_conflict', 'the event id was already used for another job',
            jsonb_build_object('event_id', p_event_id)
        );
    END IF;
    RETURN jsonb_build_object('outcome', v_outcome, 'job', to_jsonb(v_job));
END;
$$;

REVOKE ALL ON FUNCTION public.apply_clip_event(text, uuid, text, integer, text, text, text)
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.apply_clip_event(text, uuid, text, integer, text, text, text)
TO service_role;

-- Records one attempt to hand a job to the render provider. Success stores the provider's job
-- id; after p_max_attempts failed attempts the job fails and is refunded. A job that is already
-- final is returned unchanged. Once the job no longer awaits dispatch its lease ends.
CREATE OR REPLACE FUNCTION public.record_clip_dispatch(
    p_job_id uuid,
    p_succeeded boolean,
    p_provider_job_id text DEFAULT NULL,
    p_error text DEFAULT NULL,
    p_max_attempts integer DEFAULT 5
)
RETURNS public.clip_jobs
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_job public.clip_jobs;
BEGIN
    IF p_job_id IS NULL OR p_succeeded IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'a job id and the outcome are required');
    END IF;
    IF p_max_attempts IS NULL OR p_max_attempts < 1 THEN
        PERFORM private.raise_error('invalid_input', 'the maximum attempts must be at least 1');
    END IF;
    IF p_succeeded AND coalesce(p_provider_job_id, '') = '' THEN
        PERFORM private.raise_error(
            'invalid_input', 'a successful dispatch needs the provider''s job id'
        );
    END IF;

    SELECT * INTO v_job FROM public.clip_jobs WHERE id = p_job_id FOR UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', 'no such clip job');
    END IF;
    IF v_job.status IN ('completed', 'failed', 'canceled') THEN
        DELETE FROM private.clip_dispatch_leases WHERE job_id = p_job_id;
        RETURN v_job;
    END IF;

    IF p_succeeded THEN
        -- Lost in a crash, the job is dispatched again under the same job id, which the
        -- provider treats as an idempotency key: the commit need not wait for the WAL flush.
        PERFORM set_config('synchronous_commit', 'off', true);
        UPDATE public.clip_jobs
        SET attempts = attempts + 1, provider_job_id = p_provider_job_id
        WHERE id = p_job_id
        RETURNING * INTO v_job;
        DELETE FROM private.clip_dispatch_leases WHERE job_id = p_job_id;
        RETURN v_job;
    END IF;

    UPDATE public.clip_jobs
    SET attempts = attempts + 1,
        error_message = coalesce(nullif(p_error, ''), 'the render request failed')
    WHERE id = p_job_id
    RETURNING * INTO v_job;
    IF v_job.attempts >= p_max_attempts THEN
        UPDATE public.clip_jobs SET status = 'failed' WHERE id = p_job_id;
        DELETE FROM private.clip_dispatch_leases WHERE job_id = p_job_id;
        v_job := private.refund_clip_job(p_job_id);
    END IF;
    RETURN v_job;
END;
$$;

REVOKE ALL ON FUNCTION public.record_clip_dispatch(uuid, boolean, text, text, integer)
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.record_clip_dispatch(uuid, boolean, text, text, integer)
TO service_role;

-- Queued jobs the render provider has not accepted yet and no dispatcher holds a valid lease on,
-- oldest first.
CREATE OR REPLACE FUNCTION public.clip_jobs_awaiting_dispatch(p_limit integer DEFAULT 50)
RETURNS SETOF public.clip_jobs
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 200 THEN
        PERFORM private.raise_error('invalid_input', 'the limit must be between 1 and 200');
    END IF;
    RETURN QUERY
    SELECT j.*
    FROM public.clip_jobs AS j
    WHERE j.status = 'queued' AND j.provider_job_id IS NULL AND j.deleted_at IS NULL
        AND NOT EXISTS (
            SELECT FROM private.clip_dispatch_leases AS l
            WHERE l.job_id = j.id AND l.lease_until > now()
        )
    ORDER BY j.submitted_at, j.id
    LIMIT p_limit;
END;
$$;

REVOKE ALL ON FUNCTION public.clip_jobs_awaiting_dispatch(integer)
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.clip_jobs_awaiting_dispatch(integer) TO service_role;
