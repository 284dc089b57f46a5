-- The clip job state machine, enforced for every writer:
--   queued -> processing | failed | canceled
--   processing -> completed | failed | canceled
-- completed, failed and canceled are final. Entering a state stamps its timestamp.

CREATE OR REPLACE FUNCTION private.clip_job_transition_allowed(p_from text, p_to text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT p_from = p_to
        OR (p_from = 'queued' AND p_to IN ('processing', 'failed', 'canceled'))
        OR (p_from = 'processing' AND p_to IN ('completed', 'failed', 'canceled'))
$$;

CREATE OR REPLACE FUNCTION private.enforce_clip_job_transition()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NOT private.clip_job_transition_allowed(OLD.status, NEW.status) THEN
        PERFORM private.raise_error(
            'invalid_transition',
            format('clip job %s cannot go from %s to %s', OLD.id, OLD.status, NEW.status),
            jsonb_build_object('from', OLD.status, 'to', NEW.status)
        );
    END IF;
    IF OLD.status IN ('completed', 'failed', 'canceled')
        AND (NEW.progress, NEW.download_url, NEW.error_message, NEW.provider_job_id)
        IS DISTINCT FROM (OLD.progress, OLD.download_url, OLD.error_message, OLD.provider_job_id)
    THEN
        PERFORM private.raise_error(
            'invalid_transition', format('clip job %s is %s and final', OLD.id, OLD.status)
        );
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        CASE NEW.status
            WHEN 'processing' THEN NEW.started_at := coalesce(NEW.started_at, now());
            WHEN 'completed' THEN
                NEW.completed_at := coalesce(NEW.completed_at, now());
                NEW.progress := 100;
            WHEN 'failed' THEN NEW.completed_at := coalesce(NEW.completed_at, now());
            WHEN 'canceled' THEN NEW.canceled_at := coalesce(NEW.canceled_at, now());
            ELSE NULL;
        END CASE;
    END IF;
    RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION private.clip_job_transition_allowed(text, text) FROM public;
REVOKE ALL ON FUNCTION private.enforce_clip_job_transition() FROM public;
GRANT EXECUTE ON FUNCTION private.clip_job_transition_allowed(text, text)
TO authenticated, service_role;

CREATE OR REPLACE TRIGGER t20_enforce_clip_job_transition
BEFORE UPDATE ON public.clip_jobs
FOR EACH ROW EXECUTE FUNCTION private.enforce_clip_job_transition();
