-- DirectorStudio schema: tables, constraints and indexes.
--
-- Functions, triggers, policies and grants live in sql/functions and sql/policies and reach
-- hosted Supabase through the generated routines migrations that follow this one.
-- Every statement is safe to run twice.

CREATE SCHEMA IF NOT EXISTS private;
REVOKE ALL ON SCHEMA private FROM public;
GRANT USAGE ON SCHEMA private TO authenticated, service_role;

-- Users ------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.app_users (
    id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    email text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Credits ----------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.credits_ledger (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_key text NOT NULL UNIQUE CHECK (char_length(user_key) BETWEEN 1 AND 200),
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    credits integer NOT NULL DEFAULT 0 CHECK (credits >= 0),
    first_clip_granted boolean NOT NULL DEFAULT true,
    first_clip_consumed boolean NOT NULL DEFAULT false,
    granted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS ix_credits_ledger_user ON public.credits_ledger (user_id);

-- Projects ---------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.project_overview (
    project_id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    title text NOT NULL DEFAULT 'Untitled project'
    CHECK (char_length(title) BETWEEN 1 AND 200),
    archived boolean NOT NULL DEFAULT false,
    scene_count bigint NOT NULL DEFAULT 0,
    total_duration double precision NOT NULL DEFAULT 0,
    project_created_at timestamptz NOT NULL DEFAULT now(),
    last_updated timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    version bigint NOT NULL DEFAULT 1,
    field_versions jsonb NOT NULL DEFAULT '{}',
    sync_txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT project_overview_owner_key UNIQUE (project_id, user_id)
);

CREATE INDEX IF NOT EXISTS ix_project_overview_user_updated
ON public.project_overview (user_id, last_updated DESC);
CREATE INDEX IF NOT EXISTS ix_project_overview_user_sync
ON public.project_overview (user_id, sync_txid);

-- Scene drafts -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.scene_drafts (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    project_id uuid NOT NULL,
    order_index integer NOT NULL CHECK (order_index >= 0),
    prompt_text text NOT NULL CHECK (char_length(prompt_text) <= 10000),
    duration double precision NOT NULL CHECK (duration > 0 AND duration <= 600),
    scene_type text CHECK (char_length(scene_type) <= 100),
    shot_type text CHECK (char_length(shot_type) <= 100),
    archived boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version bigint NOT NULL DEFAULT 1,
    field_versions jsonb NOT NULL DEFAULT '{}',
    sync_txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT scene_drafts_owner_key UNIQUE (id, user_id),
    CONSTRAINT scene_drafts_project_fkey FOREIGN KEY (project_id, user_id)
    REFERENCES public.project_overview (project_id, user_id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS ix_scene_drafts_project_order
ON public.scene_drafts (project_id, user_id, order_index);
CREATE INDEX IF NOT EXISTS ix_scene_drafts_user_sync
ON public.scene_drafts (user_id, sync_txid);

-- Screenplays ------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.screenplays (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    content text NOT NULL,
    archived boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version bigint NOT NULL DEFAULT 1,
    field_versions jsonb NOT NULL DEFAULT '{}',
    sync_txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT screenplays_owner_key UNIQUE (id, user_id)
);

CREATE INDEX IF NOT EXISTS ix_screenplays_user_sync
ON public.screenplays (user_id, sync_txid);

CREATE TABLE IF NOT EXISTS public.screenplay_sections (
    id uuid PRIMARY KEY,
    screenplay_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    heading text NOT NULL,
    content text NOT NULL,
    order_index integer NOT NULL CHECK (order_index >= 0),
    archived boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version bigint NOT NULL DEFAULT 1,
    field_versions jsonb NOT NULL DEFAULT '{}',
    sync_txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT screenplay_sections_screenplay_fkey FOREIGN KEY (screenplay_id, user_id)
    REFERENCES public.screenplays (id, user_id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS ix_screenplay_sections_screenplay_order
ON public.screenplay_sections (screenplay_id, user_id, order_index);
CREATE INDEX IF NOT EXISTS ix_screenplay_sections_user_sync
ON public.screenplay_sections (user_id, sync_txid);

-- Clip jobs --------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.clip_jobs (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    user_key text NOT NULL REFERENCES public.credits_ledger (user_key) ON DELETE CASCADE,
    project_id uuid,
    scene_draft_id uuid,
    prompt text NOT NULL CHECK (char_length(prompt) BETWEEN 1 AND 2000),
    status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'canceled')),
    progress smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    charge text NOT NULL CHECK (charge IN ('free', 'credit')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    provider_job_id text,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    completed_at timestamptz,
    canceled_at timestamptz,
    refunded_at timestamptz,
    download_url text,
    error_message text,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version bigint NOT NULL DEFAULT 1,
    field_versions jsonb NOT NULL DEFAULT '{}',
    sync_txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT clip_jobs_completed_has_url
    CHECK (status <> 'completed' OR download_url IS NOT NULL),
    CONSTRAINT clip_jobs_project_fkey FOREIGN KEY (project_id, user_id)
    REFERENCES public.project_overview (project_id, user_id) ON DELETE CASCADE,
    CONSTRAINT clip_jobs_scene_draft_fkey FOREIGN KEY (scene_draft_id, user_id)
    REFERENCES public.scene_drafts (id, user_id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS ix_clip_jobs_user_status_submitted
ON public.clip_jobs (user_id, status, submitted_at);
CREATE INDEX IF NOT EXISTS ix_clip_jobs_user_submitted
ON public.clip_jobs (user_id, submitted_at DESC, id);
CREATE INDEX IF NOT EXISTS ix_clip_jobs_user_sync ON public.clip_jobs (user_id, sync_txid);
CREATE INDEX IF NOT EXISTS ix_clip_jobs_user_key ON public.clip_jobs (user_key);
CREATE INDEX IF NOT EXISTS ix_clip_jobs_project ON public.clip_jobs (project_id, user_id);
CREATE INDEX IF NOT EXISTS ix_clip_jobs_scene_draft ON public.clip_jobs (scene_draft_id, user_id);

-- Append-only record of every balance change, keyed by an idempotency key so that a retried
-- adjustment applies once.
CREATE TABLE IF NOT EXISTS public.credit_transactions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    user_key text NOT NULL REFERENCES public.credits_ledger (user_key) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    kind text NOT NULL
    CHECK (kind IN ('grant', 'consume', 'refund', 'first_clip', 'first_clip_refund')),
    delta integer NOT NULL,
    balance_after integer NOT NULL CHECK (balance_after >= 0),
    clip_job_id uuid REFERENCES public.clip_jobs (id) ON DELETE CASCADE,
    reason text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS ix_credit_transactions_user_key
ON public.credit_transactions (user_key, created_at);
CREATE INDEX IF NOT EXISTS ix_credit_transactions_user ON public.credit_transactions (user_id);
CREATE INDEX IF NOT EXISTS ix_credit_transactions_clip_job
ON public.credit_transactions (clip_job_id);

-- Continuity -------------------------------------------------------------------------------
-- scene_id is the app's integer scene number; scene_draft_id references a synced scene draft
-- (conflict resolutions are recorded against it).
CREATE TABLE IF NOT EXISTS public.continuity_logs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scene_id integer,
    scene_draft_id uuid,
    kind text NOT NULL DEFAULT 'validation'
    CHECK (kind IN ('validation', 'conflict_resolution')),
    confidence double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    issues jsonb NOT NULL,
    passed boolean NOT NULL,
    timestamp timestamptz NOT NULL,
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT continuity_logs_scene_reference
    CHECK (scene_id IS NOT NULL OR scene_draft_id IS NOT NULL),
    CONSTRAINT continuity_logs_scene_draft_fkey FOREIGN KEY (scene_draft_id, user_id)
    REFERENCES public.scene_drafts (id, user_id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS ix_continuity_logs_user_scene_time
ON public.continuity_logs (user_id, scene_id, timestamp);
CREATE INDEX IF NOT EXISTS ix_continuity_logs_scene_draft
ON public.continuity_logs (scene_draft_id, user_id);

CREATE TABLE IF NOT EXISTS public.continuity_recent_validations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    scene_id integer NOT NULL,
    confidence double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    passed boolean NOT NULL,
    issue_count integer NOT NULL DEFAULT 0 CHECK (issue_count >= 0),
    timestamp timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT continuity_recent_validations_scene_key UNIQUE (user_id, scene_id)
);

CREATE TABLE IF NOT EXISTS public.continuity_scene_states (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    location text NOT NULL,
    characters jsonb NOT NULL,
    props jsonb NOT NULL,
    prompt text NOT NULL,
    tone text NOT NULL,
    timestamp timestamptz NOT NULL,
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS ix_continuity_scene_states_user
ON public.continuity_scene_states (user_id);

CREATE TABLE IF NOT EXISTS public.continuity_telemetry (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    element text NOT NULL CHECK (char_length(element) BETWEEN 1 AND 100),
    day date NOT NULL DEFAULT current_date,
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    successes integer NOT NULL DEFAULT 0 CHECK (successes >= 0),
    rate double precision NOT NULL DEFAULT 0 CHECK (rate BETWEEN 0 AND 1),
    timestamp timestamptz NOT NULL DEFAULT now(),
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT continuity_telemetry_successes_le_attempts CHECK (successes <= attempts),
    CONSTRAINT continuity_telemetry_day_key UNIQUE (user_id, element, day)
);

CREATE INDEX IF NOT EXISTS ix_continuity_telemetry_element_time
ON public.continuity_telemetry (element, timestamp);

CREATE TABLE IF NOT EXISTS public.continuity_telemetry_performance (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    element text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    successes integer NOT NULL DEFAULT 0,
    rate double precision NOT NULL DEFAULT 0,
    performance_category text NOT NULL
    CHECK (performance_category IN ('excellent', 'good', 'fair', 'poor')),
    last_updated timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT continuity_telemetry_performance_key UNIQUE (user_id, element)
);

CREATE TABLE IF NOT EXISTS public.continuity_daily_analytics (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    validation_date timestamptz NOT NULL,
    day date GENERATED ALWAYS AS ((validation_date AT TIME ZONE 'UTC')::date) STORED,
    total_scenes bigint NOT NULL DEFAULT 0,
    avg_confidence double precision,
    scenes_passed bigint NOT NULL DEFAULT 0,
    scenes_failed bigint NOT NULL DEFAULT 0,
    min_confidence double precision,
    max_confidence double precision,
    confidence_stddev double precision,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT continuity_daily_analytics_day_key UNIQUE (user_id, day)
);

CREATE TABLE IF NOT EXISTS public.user_statistics (
    user_id uuid PRIMARY KEY REFERENCES public.app_users (id) ON DELETE CASCADE,
    email varchar,
    credits integer NOT NULL DEFAULT 0,
    total_scenes bigint NOT NULL DEFAULT 0,
    total_screenplays bigint NOT NULL DEFAULT 0,
    completed_videos bigint NOT NULL DEFAULT 0,
    last_activity timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.video_uploads (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid,
    order_index integer,
    filename text,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    CONSTRAINT video_uploads_project_fkey FOREIGN KEY (project_id, user_id)
    REFERENCES public.project_overview (project_id, user_id) ON DELETE SET NULL (project_id)
);

CREATE INDEX IF NOT EXISTS ix_video_uploads_project ON public.video_uploads (project_id, user_id);
CREATE INDEX IF NOT EXISTS ix_video_uploads_user ON public.video_uploads (user_id);

-- Internal bookkeeping (schema private is not exposed over the API) --------------------------
CREATE TABLE IF NOT EXISTS private.telemetry_batches (
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    batch_id uuid NOT NULL,
    event_count integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, batch_id)
);

-- Row Level Security on every table -----------------------------------------------------------
ALTER TABLE public.app_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.credits_ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.credit_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.project_overview ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.scene_drafts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.screenplays ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.screenplay_sections ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.clip_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.continuity_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.continuity_recent_validations ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.continuity_scene_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.continuity_telemetry ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.continuity_telemetry_performance ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.continuity_daily_analytics ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_statistics ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.video_uploads ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.telemetry_batches ENABLE ROW LEVEL SECURITY;
