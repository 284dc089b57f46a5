-- run_daily_rollups / run_due_rollups: what each rollup table receives for a UTC day, the
-- performance categories, idempotency (a second run rewrites no row) and who may run them.
-- Rolled back at the end.
SET LOCAL search_path = extensions, public;
SELECT plan(29);

SELECT set_config('t.a', tests.create_user('roll-a@example.com')::text, true);
SELECT set_config('t.b', tests.create_user('roll-b@example.com')::text, true);

-- Every row of the rollup tables with its physical position: a rewritten row moves.
CREATE FUNCTION pg_temp.rollup_snapshot() RETURNS text
LANGUAGE sql AS $$
    SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
        SELECT 'd' || ctid::text || d::text AS x FROM public.continuity_daily_analytics AS d
        UNION ALL
        SELECT 'r' || ctid::text || r::text FROM public.continuity_recent_validations AS r
        UNION ALL
        SELECT 'p' || ctid::text || p::text FROM public.continuity_telemetry_performance AS p
        UNION ALL
        SELECT 'u' || ctid::text || u::text FROM public.user_statistics AS u
        UNION ALL
        SELECT 'o' || ctid::text || o::text FROM public.project_overview AS o
    ) AS s
$$;
GRANT EXECUTE ON FUNCTION pg_temp.rollup_snapshot() TO service_role;

-- Validation logs around 2026-11-20 (UTC) ---------------------------------------------------------
INSERT INTO public.continuity_logs (id, user_id, scene_id, kind, confidence, issues, passed, timestamp)
VALUES
    ('71000000-0000-0000-0000-000000000001', current_setting('t.a')::uuid, 1, 'validation',
     0.6, '["a", "b"]', false, '2026-11-20 08:00+00'),
    ('71000000-0000-0000-0000-000000000002', current_setting('t.a')::uuid, 1, 'validation',
     0.9, '[]', true, '2026-11-20 10:00+00'),
    ('71000000-0000-0000-0000-000000000003', current_setting('t.a')::uuid, 2, 'validation',
     0.5, '{"x": 1}', false, '2026-11-20 09:00+00'),
    ('71000000-0000-0000-0000-000000000004', current_setting('t.a')::uuid, 3, 'validation',
     0.8, '[]', true, '2026-11-20 23:59:59.999+00'),
    ('71000000-0000-0000-0000-000000000005', current_setting('t.a')::uuid, 4, 'validation',
     0.3, '[]', false, '2026-11-20 12:00+00'),
    ('71000000-0000-0000-0000-000000000006', current_setting('t.a')::uuid, 1, 'validation',
     0.1, '[]', false, '2026-11-20 20:00-05'),
    ('71000000-0000-0000-0000-000000000007', current_setting('t.a')::uuid, 1, 'validation',
     0.2, '[]', false, '2026-11-19 23:00+00'),
    ('71000000-0000-0000-0000-000000000008', current_setting('t.a')::uuid, 0,
     'conflict_resolution', 1, '{}', true, '2026-11-20 11:00+00'),
    ('71000000-0000-0000-0000-000000000009', current_setting('t.b')::uuid, 1, 'validation',
     1, '[]', true, '2026-11-20 15:00+00');

-- A stored validation newer than the day's logs for scene 4.
INSERT INTO public.continuity_recent_validations
    (user_id, scene_id, confidence, passed, issue_count, timestamp)
VALUES (current_setting('t.a')::uuid, 4, 0.99, true, 0, '2026-11-22 00:00+00');

-- Telemetry over two days ----------------------------------------------------------------------
INSERT INTO public.continuity_telemetry (user_id, element, day, attempts, successes, rate)
VALUES
    (current_setting('t.a')::uuid, 'lighting', '2026-11-19', 10, 9, 0.9),
    (current_setting('t.a')::uuid, 'lighting', '2026-11-20', 10, 9, 0.9),
    (current_setting('t.a')::uuid, 'props', '2026-11-20', 4, 3, 0.75),
    (current_setting('t.a')::uuid, 'tone', '2026-11-20', 2, 1, 0.5),
    (current_setting('t.a')::uuid, 'sound', '2026-11-20', 10, 4, 0.4),
    (current_setting('t.a')::uuid, 'idle', '2026-11-20', 0, 0, 0);

-- Credits, scenes, screenplays and clips of user A ------------------------------------------------
UPDATE public.credits_ledger SET credits = 5 WHERE user_key = current_setting('t.a');
INSERT INTO public.credits_ledger (user_key, user_id, credits)
VALUES ('roll-a-team', current_setting('t.a')::uuid, 3);

INSERT INTO public.project_overview (project_id, user_id, title)
VALUES ('72000000-0000-0000-0000-000000000001', current_setting('t.a')::uuid, 'Rolled');
INSERT INTO public.scene_drafts
    (id, user_id, project_id, order_index, prompt_text, duration, archived)
VALUES
    ('73000000-0000-0000-0000-000000000001', current_setting('t.a')::uuid,
     '72000000-0000-0000-0000-000000000001', 0, 'One', 2.5, false),
    ('73000000-0000-0000-0000-000000000002', current_setting('t.a')::uuid,
     '72000000-0000-0000-0000-000000000001', 1, 'Two', 4, false),
    ('73000000-0000-0000-0000-000000000003', current_setting('t.a')::uuid,
     '72000000-0000-0000-0000-000000000001', 2, 'Gone', 9, true);
INSERT INTO public.screenplays (id, user_id, title, content, archived)
VALUES
    ('74000000-0000-0000-0000-000000000001', current_setting('t.a')::uuid, 'Live', 'INT.', false),
    ('74000000-0000-0000-0000-000000000002', current_setting('t.a')::uuid, 'Old', 'EXT.', true);
INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge)
VALUES
    ('75000000-0000-0000-0000-000000000001', current_setting('t.a')::uuid,
     current_setting('t.a'), 'Done', 'free'),
    ('75000000-0000-0000-0000-000000000002', current_setting('t.a')::uuid,
     current_setting('t.a'), 'Waiting', 'credit');
UPDATE public.clip_jobs SET status = 'processing'
WHERE id = '75000000-0000-0000-0000-000000000001';
UPDATE public.clip_jobs SET status = 'completed', download_url = 'http://clips/1.mp4'
WHERE id = '75000000-0000-0000-0000-000000000001';

-- Stored project totals that disagree with the live scenes (written with triggers off).
SELECT set_config('session_replication_role', 'replica', true);
UPDATE public.project_overview SET scene_count = 99, total_duration = 1
WHERE project_id = '72000000-0000-0000-0000-000000000001';
SELECT set_config('session_replication_role', 'origin', true);
SELECT set_config('t.project_version', (
    SELECT version::text FROM public.project_overview
    WHERE project_id = '72000000-0000-0000-0000-000000000001'), true);

-- Who may run the rollups -----------------------------------------------------------------------
SELECT '# acting as user A' FROM tests.authenticate_as(current_setting('t.a')::uuid) AS a;

SELECT throws_ok(
    $$SELECT public.run_daily_rollups('2026-11-20')$$,
    '42501', NULL, 'a signed-in user cannot run the daily rollups');

SELECT throws_ok(
    $$SELECT public.run_due_rollups()$$,
    '42501', NULL, 'a signed-in user cannot run the due rollups');

SELECT '# acting as anon' FROM tests.authenticate_as_anon() AS n;

SELECT throws_ok(
    $$SELECT public.run_daily_rollups('2026-11-20')$$,
    '42501', NULL, 'anon cannot run the daily rollups');

SELECT throws_ok(
    $$SELECT public.run_due_rollups()$$,
    '42501', NULL, 'anon cannot run the due rollups');

-- The first run ---------------------------------------------------------------------------------
SELECT '# acting as the service role' FROM tests.authenticate_as_service_role() AS s;

SELECT throws_ok(
    $$SELECT public.run_daily_rollups(NULL)$$,
    '22023', 'a rollup needs a day', 'a rollup without a day is invalid_input');

SELECT is(
    public.run_daily_rollups('2026-11-20'),
    '{"day": "2026-11-20", "continuity_daily_analytics": 2,
      "continuity_recent_validations": 4, "continuity_telemetry_performance": 5,
      "user_statistics": 2, "project_overview": 1, "release_channel_daily": 0}'::jsonb,
    'the first run reports the rows it wrote per table');

SELECT results_eq(
    $$SELECT validation_date, day, total_scenes, round(avg_confidence::numeric, 6),
             scenes_passed, scenes_failed, min_confidence, max_confidence,
             round(confidence_stddev::numeric, 6)
      FROM public.continuity_daily_analytics WHERE user_id = current_setting('t.a')::uuid$$,
    $$VALUES ('2026-11-20 00:00+00'::timestamptz, '2026-11-20'::date, 5::bigint, 0.62::numeric,
              2::bigint, 3::bigint, 0.3::double precision, 0.9::double precision,
              0.213542::numeric)$$,
    'daily analytics summarise the validation logs of that UTC day only');

SELECT results_eq(
    $$SELECT total_scenes, avg_confidence, confidence_stddev
      FROM public.continuity_daily_analytics WHERE user_id = current_setting('t.b')::uuid$$,
    $$VALUES (1::bigint, 1::double precision, 0::double precision)$$,
    'each user gets their own daily analytics');

SELECT results_eq(
    $$SELECT scene_id, confidence, passed, issue_count, timestamp
      FROM public.continuity_recent_validations
      WHERE user_id = current_setting('t.a')::uuid ORDER BY scene_id$$,
    $$VALUES (1, 0.9::double precision, true, 0, '2026-11-20 10:00+00'::timestamptz),
             (2, 0.5::double precision, false, 1, '2026-11-20 09:00+00'::timestamptz),
             (3, 0.8::double precision, true, 0, '2026-11-20 23:59:59.999+00'::timestamptz),
             (4, 0.99::double precision, true, 0, '2026-11-22 00:00+00'::timestamptz)$$,
    'recent validations take the newest log of each scene and keep a newer stored row');

SELECT results_eq(
    $$SELECT element, attempts, successes, rate, performance_category
      FROM public.continuity_telemetry_performance ORDER BY element$$,
    $$VALUES ('idle', 0, 0, 0::double precision, 'poor'),
             ('lighting', 20, 18, 0.9::double precision, 'excellent'),
             ('props', 4, 3, 0.75::double precision, 'good'),
             ('sound', 10, 4, 0.4::double precision, 'poor'),
             ('tone', 2, 1, 0.5::double precision, 'fair')$$,
    'telemetry performance sums every day per element and categorises the rate');

SELECT results_eq(
    $$SELECT email::text, credits, total_scenes, total_screenplays, completed_videos,
             last_activity
      FROM public.user_statistics WHERE user_id = current_setting('t.a')::uuid$$,
    $$VALUES ('roll-a@example.com', 8, 2::bigint, 1::bigint, 1::bigint, now())$$,
    'user statistics count credits of every account, live scenes and screenplays, '
    'completed clips and the latest activity');

SELECT results_eq(
    $$SELECT credits, total_scenes, completed_videos FROM public.user_statistics
      WHERE user_id = current_setting('t.b')::uuid$$,
    $$VALUES (0, 0::bigint, 0::bigint)$$,
    'a user without content has zero statistics');

SELECT results_eq(
    $$SELECT scene_count, total_duration, version > current_setting('t.project_version')::bigint
      FROM public.project_overview
      WHERE project_id = '72000000-0000-0000-0000-000000000001'$$,
    $$VALUES (2::bigint, 6.5::double precision, true)$$,
    'project totals that disagree with the live scenes are recomputed as a new version');

-- The second run --------------------------------------------------------------------------------
SELECT set_config('t.counts', (
    SELECT count(*)::text FROM public.continuity_daily_analytics) || '/' || (
    SELECT count(*)::text FROM public.continuity_recent_validations) || '/' || (
    SELECT count(*)::text FROM public.continuity_telemetry_performance) || '/' || (
    SELECT count(*)::text FROM public.user_statistics), true);
SELECT set_config('t.snapshot', pg_temp.rollup_snapshot(), true);

SELECT is(
    public.run_daily_rollups('2026-11-20'),
    '{"day": "2026-11-20", "continuity_daily_analytics": 0,
      "continuity_recent_validations": 0, "continuity_telemetry_performance": 0,
      "user_statistics": 0, "project_overview": 0, "release_channel_daily": 0}'::jsonb,
    'a second run for the same day writes nothing');

SELECT is(
    pg_temp.rollup_snapshot(), current_setting('t.snapshot'),
    'after a second run every rollup row is the same row with the same values');

SELECT is(
    (SELECT count(*)::text FROM public.continuity_daily_analytics) || '/' || (
     SELECT count(*)::text FROM public.continuity_recent_validations) || '/' || (
     SELECT count(*)::text FROM public.continuity_telemetry_performance) || '/' || (
     SELECT count(*)::text FROM public.user_statistics),
    current_setting('t.counts'), 'a second run duplicates no row');

-- New data and the next day ---------------------------------------------------------------------
SELECT '# back to the superuser' FROM tests.clear_authentication() AS c;

UPDATE public.continuity_telemetry SET attempts = 10, successes = 8, rate = 0.8
WHERE element = 'sound';

SELECT '# acting as the service role' FROM tests.authenticate_as_service_role() AS s;

SELECT is(
    (public.run_daily_rollups('2026-11-20') ->> 'continuity_telemetry_performance')::int,
    1, 'a rerun after new telemetry rewrites only the changed element');

SELECT results_eq(
    $$SELECT rate, performance_category FROM public.continuity_telemetry_performance
      WHERE element = 'sound'$$,
    $$VALUES (0.8::double precision, 'good')$$,
    'the changed element is recategorised');

SELECT is(
    (public.run_daily_rollups('2026-11-21') ->> 'continuity_daily_analytics')::int,
    1, 'the next day gets its own analytics run');

SELECT results_eq(
    $$SELECT day, total_scenes, min_confidence FROM public.continuity_daily_analytics
      WHERE user_id = current_setting('t.a')::uuid ORDER BY day$$,
    $$VALUES ('2026-11-20'::date, 5::bigint, 0.3::double precision),
             ('2026-11-21'::date, 1::bigint, 0.1::double precision)$$,
    'a log late in a western time zone counts for the next UTC day');

SELECT results_eq(
    $$SELECT confidence, timestamp FROM public.continuity_recent_validations
      WHERE user_id = current_setting('t.a')::uuid AND scene_id = 1$$,
    $$VALUES (0.1::double precision, '2026-11-21 01:00+00'::timestamptz)$$,
    'a newer log on a later day replaces the recent validation');

SELECT is(
    jsonb_path_query_array(public.run_due_rollups(), '$[*].day'),
    jsonb_build_array((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date),
    'the due rollups run yesterday and today (UTC)');

-- What users see --------------------------------------------------------------------------------
SELECT '# acting as user B' FROM tests.authenticate_as(current_setting('t.b')::uuid) AS b;

SELECT is(
    (SELECT count(*) FROM public.continuity_daily_analytics)
    + (SELECT count(*) FROM public.continuity_recent_validations)
    + (SELECT count(*) FROM public.user_statistics),
    3::bigint, 'a user sees only their own rollup rows');

SELECT is(
    (SELECT count(*) FROM public.continuity_telemetry_performance),
    0::bigint, 'a user sees no other user''s telemetry performance');

SELECT throws_ok(
    $$UPDATE public.user_statistics SET credits = 1000$$,
    '42501', NULL, 'a user cannot change their statistics');

SELECT throws_ok(
    $$INSERT INTO public.continuity_telemetry_performance
          (user_id, element, performance_category)
      VALUES (current_setting('t.b')::uuid, 'x', 'excellent')$$,
    '42501', NULL, 'a user cannot write telemetry performance');

-- Categories at their boundaries ----------------------------------------------------------------
SELECT '# back to the superuser' FROM tests.clear_authentication() AS c;

SELECT results_eq(
    $$SELECT private.performance_category(r)
      FROM unnest(ARRAY[1, 0.9, 0.8999, 0.75, 0.7499, 0.5, 0.4999, 0]::double precision[])
      WITH ORDINALITY AS u (r, n) ORDER BY n$$,
    $$VALUES ('excellent'), ('excellent'), ('good'), ('good'), ('fair'), ('fair'), ('poor'),
             ('poor')$$,
    'categories: excellent from 0.9, good from 0.75, fair from 0.5, else poor');

SELECT is(
    private.performance_category(9::double precision / 10),
    'excellent', 'a rate of exactly 9 in 10 is excellent');

SELECT results_eq(
    $$SELECT private.issue_count(i)
      FROM unnest(ARRAY['["a", "b", "c"]', '{"x": 1, "y": 2}', '[]', '"none"', 'null']::jsonb[])
      WITH ORDINALITY AS u (i, n) ORDER BY n$$,
    $$VALUES (3), (2), (0), (0), (0)$$,
    'the issue count of a log is the length of its array or the keys of its object');

SELECT * FROM finish();
ROLLBACK;
