-- Scheduled rollups (service_role only): the analytics tables are derived from the raw rows.
--
-- run_daily_rollups(day) recomputes, for one UTC day:
--   continuity_daily_analytics       per user, from that day's validation logs;
--   continuity_recent_validations    the newest validation per user and scene from that day's
--                                    logs (a newer stored row is kept);
--   continuity_telemetry_performance per user and element over all days of telemetry;
--   user_statistics                  per user: credits, live scenes and screenplays, completed
--                                    videos, last activity;
--   project_overview                 scene_count/total_duration of projects whose stored totals
--                                    disagree with their live scenes;
--   private.release_channel_daily    that day's sync metrics per release channel
--                                    (private.rollup_release_channels, 43_release_channels.sql).
-- Every step is an upsert on the table's unique key that writes only rows whose values change,
-- so running it again for the same day gives the same rows; the result counts the rows written.
-- run_due_rollups() runs yesterday and today (UTC) and is what the scheduler calls
-- (docs/rollups.md).

-- The performance category of a success rate.
CREATE OR REPLACE FUNCTION private.performance_category(p_rate double precision)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT CASE
        WHEN p_rate >= 0.9 THEN 'excellent'
        WHEN p_rate >= 0.75 THEN 'good'
        WHEN p_rate >= 0.5 THEN 'fair'
        ELSE 'poor'
    END
$$;

REVOKE ALL ON FUNCTION private.performance_category(double precision)
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.performance_category(double precision) TO service_role;

-- The steps of run_daily_rollups, each one upsert that writes only rows whose values change and
-- answers how many it wrote.

-- Projects whose stored totals disagree with their live scenes get the live totals. Writing
-- them makes the project's trigger recompute them from the live scenes (and, as they change,
-- bump its version so clients pull it).
CREATE OR REPLACE FUNCTION private.rollup_project_totals()
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_written integer;
BEGIN
    UPDATE public.project_overview AS p
    SET scene_count = live.scene_count, total_duration = live.total_duration
    FROM (
        SELECT
            po.project_id,
            count(sd.id) AS scene_count,
            coalesce(sum(sd.duration), 0) AS total_duration
        FROM public.project_overview AS po
        LEFT JOIN public.scene_drafts AS sd
            ON sd.project_id = po.project_id AND NOT sd.archived AND sd.deleted_at IS NULL
        GROUP BY po.project_id
    ) AS live
    WHERE p.project_id = live.project_id
        AND (p.scene_count <> live.scene_count
            OR abs(p.total_duration - live.total_duration) > 1e-9);
    GET DIAGNOSTICS v_written = ROW_COUNT;
    RETURN v_written;
END;
$$;

-- Per user, the validation logs of [p_start, p_end).
CREATE OR REPLACE FUNCTION private.rollup_daily_analytics(
    p_start timestamptz, p_end timestamptz
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_written integer;
BEGIN
    INSERT INTO public.continuity_daily_analytics AS d (
        user_id, validation_date, total_scenes, avg_confidence, scenes_passed, scenes_failed,
        min_confidence, max_confidence, confidence_stddev
    )
    SELECT
        l.user_id,
        p_start,
        count(*),
        avg(l.confidence),
        count(*) FILTER (WHERE l.passed),
        count(*) FILTER (WHERE NOT l.passed),
        min(l.confidence),
        max(l.confidence),
        stddev_pop(l.confidence)
    FROM public.continuity_logs AS l
    WHERE l.kind = 'validation' AND l.timestamp >= p_start AND l.timestamp < p_end
    GROUP BY l.user_id
    ORDER BY l.user_id
    ON CONFLICT (user_id, day) DO UPDATE
    SET total_scenes = excluded.total_scenes,
        avg_confidence = excluded.avg_confidence,
        scenes_passed = excluded.scenes_passed,
        scenes_failed = excluded.scenes_failed,
        min_confidence = excluded.min_confidence,
        max_confidence = excluded.max_confidence,
        confidence_stddev = excluded.confidence_stddev
    WHERE (d.total_scenes, d.avg_confidence, d.scenes_passed, d.scenes_failed, d.min_confidence,
        d.max_confidence, d.confidence_stddev)
        IS DISTINCT FROM
        (excluded.total_scenes, excluded.avg_confidence, excluded.scenes_passed,
            excluded.scenes_failed, excluded.min_confidence, excluded.max_confidence,
            excluded.confidence_stddev);
    GET DIAGNOSTICS v_written = ROW_COUNT;
    RETURN v_written;
END;
$$;

-- The newest validation per user and scene of [p_start, p_end); a newer stored row is kept.
CREATE OR REPLACE FUNCTION private.rollup_recent_validations(
    p_start timestamptz, p_end timestamptz
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_written integer;
BEGIN
    -- The same order as upsert_recent_validation: timestamp, then confidence, issue count,
    -- passed.
    INSERT INTO public.continuity_recent_validations AS r
        (user_id, scene_id, confidence, passed, issue_count, timestamp)
    SELECT n.user_id, n.scene_id, n.confidence, n.passed, n.issue_count, n.timestamp
    FROM (
        SELECT DISTINCT ON (l.user_id, l.scene_id)
            l.user_id,
            l.scene_id,
            l.confidence,
            l.passed,
            private.issue_count(l.issues) AS issue_count,
            l.timestamp
        FROM public.continuity_logs AS l
        WHERE l.kind = 'validation' AND l.scene_id IS NOT NULL
            AND l.timestamp >= p_start AND l.timestamp < p_end
        ORDER BY
            l.user_id, l.scene_id, l.timestamp DESC, l.confidence DESC,
            private.issue_count(l.issues) DESC, l.passed DESC
    ) AS n
    ORDER BY n.user_id, n.scene_id
    ON CONFLICT (user_id, scene_id) DO UPDATE
    SET confidence = excluded.confidence,
        passed = excluded.passed,
        issue_count = excluded.issue_count,
        timestamp = excluded.timestamp,
        updated_at = now()
    WHERE (r.timestamp, r.confidence, r.issue_count, r.passed)
        < (excluded.timestamp, excluded.confidence, excluded.issue_count, excluded.passed);
    GET DIAGNOSTICS v_written = ROW_COUNT;
    RETURN v_written;
END;
$$;

-- Per user and element, over all days of telemetry.
CREATE OR REPLACE FUNCTION private.rollup_telemetry_performance()
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    c_int_max constant bigint := 2147483647;
    v_written integer;
BEGIN
    INSERT INTO public.continuity_telemetry_performance AS p
        (user_id, element, attempts, successes, rate, performance_category)
    SELECT
        s.user_id,
        s.element,
        least(s.attempts, c_int_max)::integer,
        least(s.successes, c_int_max)::integer,
        s.rate,
        private.performance_category(s.rate)
    FROM (
        SELECT
            t.user_id,
            t.element,
            sum(t.attempts) AS attempts,
            sum(t.successes) AS successes,
            CASE WHEN sum(t.attempts) = 0 THEN 0
                ELSE sum(t.successes)::double precision / sum(t.attempts)
            END AS rate
        FROM public.continuity_telemetry AS t
        GROUP BY t.user_id, t.element
    ) AS s
    ORDER BY s.user_id, s.element
    ON CONFLICT (user_id, element) DO UPDATE
    SET attempts = excluded.attempts,
        successes = excluded.successes,
        rate = excluded.rate,
        performance_category = excluded.performance_category,
        last_updated = now()
    WHERE (p.attempts, p.successes, p.rate, p.performance_category)
        IS DISTINCT FROM
        (excluded.attempts, excluded.successes, excluded.rate, excluded.performance_category);
    GET DIAGNOSTICS v_written = ROW_COUNT;
    RETURN v_written;
END;
$$;

-- Per user: credits (the account rows and their buckets), live scenes and screenplays,
-- completed videos, last activity.
CREATE OR REPLACE FUNCTION private.rollup_user_statistics()
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    c_int_max constant bigint := 2147483647;
    v_written integer;
BEGIN
    INSERT INTO public.user_statistics AS us (
        user_id, email, credits, total_scenes, total_screenplays, completed_videos,
        last_activity
    )
    SELECT
        u.id,
        u.email,
        least(coalesce(c.credits, 0), c_int_max)::integer,
        coalesce(s.live, 0),
        coalesce(sp.live, 0),
        coalesce(j.completed, 0),
        greatest(po.latest, s.latest, sp.latest, ss.latest, j.latest, l.latest, t.latest)
    FROM public.app_users AS u
    LEFT JOIN (
        SELECT
            cl.user_id,
            sum(cl.credits + coalesce((
                SELECT sum(b.credits) FROM private.credit_buckets AS b
                WHERE b.user_key = cl.user_key
            ), 0)) AS credits
        FROM public.credits_ledger AS cl GROUP BY cl.user_id
    ) AS c ON c.user_id = u.id
    LEFT JOIN (
        SELECT p.user_id, max(p.last_updated) AS latest
        FROM public.project_overview AS p GROUP BY p.user_id
    ) AS po ON po.user_id = u.id
    LEFT JOIN (
        SELECT
            sd.user_id,
            count(*) FILTER (WHERE NOT sd.archived AND sd.deleted_at IS NULL) AS live,
            max(sd.updated_at) AS latest
        FROM public.scene_drafts AS sd GROUP BY sd.user_id
    ) AS s ON s.user_id = u.id
    LEFT JOIN (
        SELECT
            sc.user_id,
            count(*) FILTER (WHERE NOT sc.archived AND sc.deleted_at IS NULL) AS live,
            max(sc.updated_at) AS latest
        FROM public.screenplays AS sc GROUP BY sc.user_id
    ) AS sp ON sp.user_id = u.id
    LEFT JOIN (
        SELECT se.user_id, max(se.updated_at) AS latest
        FROM public.screenplay_sections AS se GROUP BY se.user_id
    ) AS ss ON ss.user_id = u.id
    LEFT JOIN (
        SELECT
            cj.user_id,
            count(*) FILTER (WHERE cj.status = 'completed') AS completed,
            max(cj.updated_at) AS latest
        FROM public.clip_jobs AS cj GROUP BY cj.user_id
    ) AS j ON j.user_id = u.id
    LEFT JOIN (
        SELECT lg.user_id, max(lg.created_at) AS latest
        FROM public.continuity_logs AS lg GROUP BY lg.user_id
    ) AS l ON l.user_id = u.id
    LEFT JOIN (
        SELECT ct.user_id, max(ct.updated_at) AS latest
        FROM public.continuity_telemetry AS ct GROUP BY ct.user_id
    ) AS t ON t.user_id = u.id
    ORDER BY u.id
    ON CONFLICT (user_id) DO UPDATE
    SET email = excluded.email,
        credits = excluded.credits,
        total_scenes = excluded.total_scenes,
        total_screenplays = excluded.total_screenplays,
        completed_videos = excluded.completed_videos,
        last_activity = excluded.last_activity,
        updated_at = now()
    WHERE (us.email, us.credits, us.total_scenes, us.total_screenplays, us.completed_videos,
        us.last_activity)
        IS DISTINCT FROM
        (excluded.email, excluded.credits, excluded.total_scenes, excluded.total_screenplays,
            excluded.completed_videos, excluded.last_activity);
    GET DIAGNOSTICS v_written = ROW_COUNT;
    RETURN v_written;
END;
$$;

REVOKE ALL ON FUNCTION private.rollup_project_totals() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.rollup_project_totals() TO service_role;
REVOKE ALL ON FUNCTION private.rollup_daily_analytics(timestamptz, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.rollup_daily_analytics(timestamptz, timestamptz) TO service_role;
REVOKE ALL ON FUNCTION private.rollup_recent_validations(timestamptz, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.rollup_recent_validations(timestamptz, timestamptz) TO service_role;
REVOKE ALL ON FUNCTION private.rollup_telemetry_performance() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.rollup_telemetry_performance() TO service_role;
REVOKE ALL ON FUNCTION private.rollup_user_statistics() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.rollup_user_statistics() TO service_role;

CREATE OR REPLACE FUNCTION public.run_daily_rollups(p_day date)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_start timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_end timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    v_projects integer;
    v_daily integer;
    v_recent integer;
    v_performance integer;
    v_statistics integer;
    v_release integer;
BEGIN
    IF p_day IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'a rollup needs a day');
    END IF;
    -- One rollup at a time (the scheduler and a manual run may overlap).
    PERFORM pg_advisory_xact_lock(hashtext('directorstudio.run_daily_rollups'));
    -- Projects first, so that user_statistics.last_activity already sees the projects it
    -- touches.
    v_projects := private.rollup_project_totals();
    v_daily := private.rollup_daily_analytics(v_start, v_end);
    v_recent := private.rollup_recent_validations(v_start, v_end);
    v_performance := private.rollup_telemetry_performance();
    v_statistics := private.rollup_user_statistics();
    v_release := private.rollup_release_channels(p_day);
    RETURN jsonb_build_object(
        'day', p_day,
        'continuity_daily_analytics', v_daily,
        'continuity_recent_validations', v_recent,
        'continuity_telemetry_performance', v_performance,
        'user_statistics', v_statistics,
        'project_overview', v_projects,
        'release_channel_daily', v_release
    );
END;
$$;

REVOKE ALL ON FUNCTION public.run_daily_rollups(date) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.run_daily_rollups(date) TO service_role;

CREATE OR REPLACE FUNCTION public.run_due_rollups()
RETURNS jsonb
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT jsonb_build_array(
        public.run_daily_rollups((now() AT TIME ZONE 'UTC')::date - 1),
        public.run_daily_rollups((now() AT TIME ZONE 'UTC')::date)
    )
$$;

REVOKE ALL ON FUNCTION public.run_due_rollups() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.run_due_rollups() TO service_role;
