-- Continuity: validation logs, the latest validation per scene, daily analytics and the record
-- of sync conflict resolutions.
--
-- continuity_logs is append-only for its owner, so its functions run as the caller (RLS
-- applies). continuity_recent_validations and continuity_daily_analytics are read-only to their
-- owner, so their functions are SECURITY DEFINER and take the user from auth.uid() only.
-- Every write is idempotent on its id; reusing an id for something else is id_conflict.

-- The number of issues in a log's issues document: the length of an array, the number of keys
-- of an object, 0 otherwise.
CREATE OR REPLACE FUNCTION private.issue_count(p_issues jsonb)
RETURNS integer
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT CASE jsonb_typeof(p_issues)
        WHEN 'array' THEN jsonb_array_length(p_issues)
        WHEN 'object' THEN (SELECT count(*)::integer FROM jsonb_object_keys(p_issues))
        ELSE 0
    END
$$;

REVOKE ALL ON FUNCTION private.issue_count(jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.issue_count(jsonb) TO service_role;

-- Inserts a continuity log once. When p_row.id already exists the caller gets the stored row if
-- it is the same log (the same user and content; timestamps of conflict resolutions are set by
-- the server and not compared), else id_conflict. Runs as the caller.
CREATE OR REPLACE FUNCTION private.insert_continuity_log_once(p_row public.continuity_logs)
RETURNS public.continuity_logs
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_row public.continuity_logs;
BEGIN
    INSERT INTO public.continuity_logs AS l
        (id, scene_id, scene_draft_id, kind, confidence, issues, passed, timestamp, user_id)
    VALUES (
        p_row.id, p_row.scene_id, p_row.scene_draft_id, p_row.kind, p_row.confidence,
        p_row.issues, p_row.passed, p_row.timestamp, p_row.user_id
    )
    ON CONFLICT (id) DO NOTHING
    RETURNING l.* INTO v_row;
    IF FOUND THEN
        RETURN v_row;
    END IF;

    SELECT l.* INTO v_row
    FROM public.continuity_logs AS l
    WHERE l.id = p_row.id AND l.user_id = p_row.user_id;
    IF FOUND
        AND (v_row.scene_id, v_row.scene_draft_id, v_row.kind, v_row.confidence, v_row.issues,
            v_row.passed)
        IS NOT DISTINCT FROM
        (p_row.scene_id, p_row.scene_draft_id, p_row.kind, p_row.confidence, p_row.issues,
            p_row.passed)
        AND (p_row.kind = 'conflict_resolution' OR v_row.timestamp = p_row.timestamp)
    THEN
        RETURN v_row;
    END IF;
    PERFORM private.raise_error(
        'id_conflict', format('continuity log %s was already recorded differently', p_row.id)
    );
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION private.insert_continuity_log_once(public.continuity_logs)
FROM public, anon;
GRANT EXECUTE ON FUNCTION private.insert_continuity_log_once(public.continuity_logs)
TO authenticated, service_role;

-- insert_continuity_log ---------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.insert_continuity_log(
    p_id uuid,
    p_scene_id integer,
    p_confidence double precision,
    p_issues jsonb,
    p_passed boolean,
    p_timestamp timestamptz,
    p_scene_draft_id uuid DEFAULT NULL
)
RETURNS public.continuity_logs
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_row public.continuity_logs;
BEGIN
    IF p_id IS NULL OR p_issues IS NULL OR p_passed IS NULL OR p_timestamp IS NULL THEN
        PERFORM private.raise_error(
            'invalid_input', 'id, issues, passed and timestamp are required'
        );
    END IF;
    IF p_confidence IS NULL OR NOT p_confidence BETWEEN 0 AND 1 THEN
        PERFORM private.raise_error('invalid_input', 'confidence must be between 0 and 1');
    END IF;
    IF p_scene_id IS NULL AND p_scene_draft_id IS NULL THEN
        PERFORM private.raise_error(
            'invalid_input', 'a log names a scene (scene_id or scene_draft_id)'
        );
    END IF;
    IF p_scene_draft_id IS NOT NULL AND NOT EXISTS (
        SELECT FROM public.scene_drafts AS s
        WHERE s.id = p_scene_draft_id AND s.user_id = v_user
    ) THEN
        PERFORM private.raise_error(
            'not_found', format('scene draft %s not found', p_scene_draft_id)
        );
    END IF;

    v_row.id := p_id;
    v_row.scene_id := p_scene_id;
    v_row.scene_draft_id := p_scene_draft_id;
    v_row.kind := 'validation';
    v_row.confidence := p_confidence;
    v_row.issues := p_issues;
    v_row.passed := p_passed;
    v_row.timestamp := p_timestamp;
    v_row.user_id := v_user;
    RETURN private.insert_continuity_log_once(v_row);
END;
$$;

REVOKE ALL ON FUNCTION public.insert_continuity_log(
    uuid, integer, double precision, jsonb, boolean, timestamptz, uuid
) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.insert_continuity_log(
    uuid, integer, double precision, jsonb, boolean, timestamptz, uuid
) TO authenticated, service_role;

-- upsert_recent_validation ------------------------------------------------------------------
-- The stored row is replaced only by a newer one: ordered by timestamp, then (for equal
-- timestamps) by confidence, issue_count and passed, so the final row is the same whatever order
-- the calls arrive in, and a replay changes nothing.
CREATE OR REPLACE FUNCTION public.upsert_recent_validation(
    p_scene_id integer,
    p_confidence double precision,
    p_passed boolean,
    p_issue_count integer,
    p_timestamp timestamptz
)
RETURNS public.continuity_recent_validations
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_row public.continuity_recent_validations;
BEGIN
    IF p_scene_id IS NULL OR p_passed IS NULL OR p_timestamp IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'scene_id, passed and timestamp are required');
    END IF;
    IF p_confidence IS NULL OR NOT p_confidence BETWEEN 0 AND 1 THEN
        PERFORM private.raise_error('invalid_input', 'confidence must be between 0 and 1');
    END IF;
    IF p_issue_count IS NULL OR p_issue_count < 0 THEN
        PERFORM private.raise_error('invalid_input', 'issue_count must be >= 0');
    END IF;

    INSERT INTO public.continuity_recent_validations AS r
        (user_id, scene_id, confidence, passed, issue_count, timestamp)
    VALUES (v_user, p_scene_id, p_confidence, p_passed, p_issue_count, p_timestamp)
    ON CONFLICT (user_id, scene_id) DO UPDATE
    SET confidence = excluded.confidence,
        passed = excluded.passed,
        issue_count = excluded.issue_count,
        timestamp = excluded.timestamp,
        updated_at = now()
    WHERE (r.timestamp, r.confidence, r.issue_count, r.passed)
        < (excluded.timestamp, excluded.confidence, excluded.issue_count, excluded.passed)
    RETURNING r.* INTO v_row;
    IF NOT FOUND THEN
        SELECT r.* INTO v_row
        FROM public.continuity_recent_validations AS r
        WHERE r.user_id = v_user AND r.scene_id = p_scene_id;
    END IF;
    RETURN v_row;
END;
$$;

REVOKE ALL ON FUNCTION public.upsert_recent_validation(
    integer, double precision, boolean, integer, timestamptz
) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.upsert_recent_validation(
    integer, double precision, boolean, integer, timestamptz
) TO authenticated, service_role;

-- append_daily_analytics --------------------------------------------------------------------
-- One row per user and UTC day of p_validation_date. Repeating the call with the same id for the
-- same day returns the stored row (which the daily rollup may since have recomputed from the
-- logs); the id used for another day or by another user, or another id for a day that already
-- has a row, is id_conflict.
CREATE OR REPLACE FUNCTION public.append_daily_analytics(
    p_id uuid,
    p_validation_date timestamptz,
    p_total_scenes bigint,
    p_avg_confidence double precision,
    p_scenes_passed bigint,
    p_scenes_failed bigint,
    p_min_confidence double precision,
    p_max_confidence double precision,
    p_confidence_stddev double precision
)
RETURNS public.continuity_daily_analytics
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_day date := (p_validation_date AT TIME ZONE 'UTC')::date;
    v_row public.continuity_daily_analytics;
BEGIN
    IF p_id IS NULL OR p_validation_date IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'id and validation_date are required');
    END IF;
    IF coalesce(p_total_scenes, -1) < 0 OR coalesce(p_scenes_passed, -1) < 0
        OR coalesce(p_scenes_failed, -1) < 0
    THEN
        PERFORM private.raise_error(
            'invalid_input', 'total_scenes, scenes_passed and scenes_failed must be >= 0'
        );
    END IF;
    IF p_scenes_passed + p_scenes_failed > p_total_scenes THEN
        PERFORM private.raise_error(
            'invalid_input', 'scenes_passed + scenes_failed cannot exceed total_scenes'
        );
    END IF;
    IF NOT coalesce(p_avg_confidence BETWEEN 0 AND 1, true)
        OR NOT coalesce(p_min_confidence BETWEEN 0 AND 1, true)
        OR NOT coalesce(p_max_confidence BETWEEN 0 AND 1, true)
        OR NOT coalesce(p_min_confidence <= p_max_confidence, true)
    THEN
        PERFORM private.raise_error(
            'invalid_input', 'confidences must be between 0 and 1, with min <= max'
        );
    END IF;
    -- BETWEEN, unlike >= 0, refuses NaN and Infinity (NaN sorts above every number); the
    -- standard deviation of values in [0, 1] is at most 0.5.
    IF NOT coalesce(p_confidence_stddev BETWEEN 0 AND 1, true) THEN
        PERFORM private.raise_error('invalid_input', 'confidence_stddev must be between 0 and 1');
    END IF;

    INSERT INTO public.continuity_daily_analytics AS d (
        id, user_id, validation_date, total_scenes, avg_confidence, scenes_passed,
        scenes_failed, min_confidence, max_confidence, confidence_stddev
    )
    VALUES (
        p_id, v_user, p_validation_date, p_total_scenes, p_avg_confidence, p_scenes_passed,
        p_scenes_failed, p_min_confidence, p_max_confidence, p_confidence_stddev
    )
    ON CONFLICT DO NOTHING
    RETURNING d.* INTO v_row;
    IF FOUND THEN
        RETURN v_row;
    END IF;

    SELECT d.* INTO v_row
    FROM public.continuity_daily_analytics AS d
    WHERE d.id = p_id AND d.user_id = v_user AND d.day = v_day;
    IF FOUND THEN
        RETURN v_row;
    END IF;
    PERFORM private.raise_error(
        'id_conflict',
        format('analytics for %s were already recorded under another id, or id %s is taken',
            v_day, p_id),
        jsonb_build_object(
            'day', v_day,
            'id', (
                SELECT d.id FROM public.continuity_daily_analytics AS d
                WHERE d.user_id = v_user AND d.day = v_day
            )
        )
    );
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION public.append_daily_analytics(
    uuid, timestamptz, bigint, double precision, bigint, bigint, double precision,
    double precision, double precision
) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.append_daily_analytics(
    uuid, timestamptz, bigint, double precision, bigint, bigint, double precision,
    double precision, double precision
) TO authenticated, service_role;

-- record_conflict_resolution ----------------------------------------------------------------
-- How the user resolved a sync conflict on one of their rows, as a continuity log of kind
-- 'conflict_resolution' with issues = {table, row_id, resolution, fields}. A resolution of a
-- scene draft is recorded against it (scene_draft_id); one of another table has no scene and
-- carries scene_id 0.
CREATE OR REPLACE FUNCTION public.record_conflict_resolution(
    p_id uuid,
    p_table text,
    p_row_id uuid,
    p_resolution text,
    p_fields jsonb
)
RETURNS public.continuity_logs
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_fields jsonb := coalesce(p_fields, '[]'::jsonb);
    v_key text;
    v_exists boolean;
    v_row public.continuity_logs;
BEGIN
    IF p_id IS NULL OR p_row_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'id and row_id are required');
    END IF;
    IF p_resolution IS NULL OR p_resolution NOT IN ('keep_local', 'keep_remote', 'merge') THEN
        PERFORM private.raise_error(
            'invalid_input', 'resolution must be keep_local, keep_remote or merge'
        );
    END IF;
    v_key := CASE p_table
        WHEN 'scene_drafts' THEN 'id'
        WHEN 'project_overview' THEN 'project_id'
        WHEN 'screenplays' THEN 'id'
        WHEN 'screenplay_sections' THEN 'id'
        WHEN 'clip_jobs' THEN 'id'
    END;
    IF v_key IS NULL THEN
        PERFORM private.raise_error(
            'invalid_input', format('conflicts are resolved on synced tables, not %s', p_table)
        );
    END IF;
    IF jsonb_typeof(v_fields) <> 'array' OR EXISTS (
        SELECT FROM jsonb_array_elements(v_fields) AS f WHERE jsonb_typeof(f) <> 'string'
    ) THEN
        PERFORM private.raise_error('invalid_input', 'fields must be an array of field names');
    END IF;

    EXECUTE format(
        'SELECT EXISTS (SELECT FROM public.%I WHERE %I = $1 AND user_id = $2)', p_table, v_key
    )
    INTO v_exists
    USING p_row_id, v_user;
    IF NOT v_exists THEN
        PERFORM private.raise_error('not_found', format('%s row %s not found', p_table, p_row_id));
    END IF;

    v_row.id := p_id;
    v_row.scene_id := CASE WHEN p_table = 'scene_drafts' THEN NULL ELSE 0 END;
    v_row.scene_draft_id := CASE WHEN p_table = 'scene_drafts' THEN p_row_id END;
    v_row.kind := 'conflict_resolution';
    v_row.confidence := 1;
    v_row.issues := jsonb_build_object(
        'table', p_table, 'row_id', p_row_id, 'resolution', p_resolution, 'fields', v_fields
    );
    v_row.passed := true;
    v_row.timestamp := now();
    v_row.user_id := v_user;
    RETURN private.insert_continuity_log_once(v_row);
END;
$$;

REVOKE ALL ON FUNCTION public.record_conflict_resolution(uuid, text, uuid, text, jsonb)
FROM public, anon;
GRANT EXECUTE ON FUNCTION public.record_conflict_resolution(uuid, text, uuid, text, jsonb)
TO authenticated, service_role;
