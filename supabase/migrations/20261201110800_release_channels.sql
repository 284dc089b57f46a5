-- Canary release: the canary share, each user's sync metrics per day and release channel, and
-- their daily rollup per channel. Every statement is safe to run twice.

-- The canary share, one row the service role changes (public.set_canary_percent).
CREATE TABLE IF NOT EXISTS private.release_settings (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    canary_percent numeric(5, 2) NOT NULL DEFAULT 5 CHECK (canary_percent BETWEEN 0 AND 100),
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO private.release_settings (id) VALUES (true) ON CONFLICT (id) DO NOTHING;

-- A user's sync metrics: sync outcomes (bucket confirmed, retried or dead) and create-to-confirm
-- latencies (bucket = the histogram bucket's upper bound in ms, or inf), counted per UTC day
-- and the release channel the user was in when the counts arrived.
CREATE TABLE IF NOT EXISTS public.sync_metrics (
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    day date NOT NULL,
    channel text NOT NULL CHECK (channel IN ('canary', 'stable')),
    metric text NOT NULL CHECK (metric IN ('sync_outcome', 'create_to_confirm_ms')),
    bucket text NOT NULL,
    count bigint NOT NULL DEFAULT 0 CHECK (count >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sync_metrics_key UNIQUE (user_id, day, channel, metric, bucket)
);

CREATE INDEX IF NOT EXISTS ix_sync_metrics_day ON public.sync_metrics (day);

-- The batches of sync metrics already applied (a replayed batch id adds nothing).
CREATE TABLE IF NOT EXISTS private.sync_metric_batches (
    user_id uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    batch_id uuid NOT NULL,
    event_count integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, batch_id)
);

-- The daily rollup of sync_metrics over all users, per release channel.
CREATE TABLE IF NOT EXISTS private.release_channel_daily (
    day date NOT NULL,
    channel text NOT NULL,
    metric text NOT NULL,
    bucket text NOT NULL,
    count bigint NOT NULL,
    user_count integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, channel, metric, bucket)
);

ALTER TABLE private.release_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.sync_metrics ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.sync_metric_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.release_channel_daily ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON private.release_settings, private.sync_metric_batches,
private.release_channel_daily FROM public, anon, authenticated;
