-- Continuity contract functions: insert_continuity_log, upsert_recent_validation,
-- append_daily_analytics and record_conflict_resolution. Rolled back at the end.
SET LOCAL search_path = extensions, public;
SELECT plan(45);

SELECT set_config('t.a', tests.create_user('cont-a@example.com')::text, true);
SELECT set_config('t.b', tests.create_user('cont-b@example.com')::text, true);

INSERT INTO public.project_overview (project_id, user_id, title)
VALUES
    ('61000000-0000-0000-0000-00000000000a', current_setting('t.a')::uuid, 'A project'),
    ('61000000-0000-0000-0000-00000000000b', current_setting('t.b')::uuid, 'B project');
INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, duration)
VALUES
    ('62000000-0000-0000-0000-00000000000a', current_setting('t.a')::uuid,
     '61000000-0000-0000-0000-00000000000a', 0, 'A scene', 3),
    ('62000000-0000-0000-0000-00000000000b', current_setting('t.b')::uuid,
     '61000000-0000-0000-0000-00000000000b', 0, 'B scene', 3);

SELECT '# acting as user A' FROM tests.authenticate_as(current_setting('t.a')::uuid) AS a;

-- insert_continuity_log -------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT scene_id, scene_draft_id, kind, confidence, issues, passed, user_id
      FROM public.insert_continuity_log('63000000-0000-0000-0000-000000000001', 7, 0.8,
          '["lighting changed"]', false, '2026-11-20 10:00+00')$$,
    $$VALUES (7, NULL::uuid, 'validation', 0.8::double precision, '["lighting changed"]'::jsonb,
              false, current_setting('t.a')::uuid)$$,
    'a validation log is recorded for the caller');

SELECT results_eq(
    $$SELECT id FROM public.insert_continuity_log('63000000-0000-0000-0000-000000000001', 7, 0.8,
          '["lighting changed"]', false, '2026-11-20 10:00+00')$$,
    $$VALUES ('63000000-0000-0000-0000-000000000001'::uuid)$$,
    'repeating the same log returns the stored row');

SELECT is(
    (SELECT count(*) FROM public.continuity_logs),
    1::bigint, 'a repeated log is stored once');

SELECT throws_ok(
    $$SELECT public.insert_continuity_log('63000000-0000-0000-0000-000000000001', 7, 0.9,
          '["lighting changed"]', false, '2026-11-20 10:00+00')$$,
    'PT409', 'continuity log 63000000-0000-0000-0000-000000000001 was already recorded differently',
    'reusing a log id for a different log is id_conflict');

SELECT throws_ok(
    $$SELECT public.insert_continuity_log('63000000-0000-0000-0000-000000000002', 7, 1.5,
          '[]', true, '2026-11-20 10:00+00')$$,
    '22023', 'confidence must be between 0 and 1', 'a confidence above 1 is invalid_input');

SELECT throws_ok(
    $$SELECT public.insert_continuity_log('63000000-0000-0000-0000-000000000002', NULL, 0.5,
          '[]', true, '2026-11-20 10:00+00')$$,
    '22023', NULL, 'a log that names no scene is invalid_input');

SELECT throws_ok(
    $$SELECT public.insert_continuity_log('63000000-0000-0000-0000-000000000002', 7, 0.5,
          '[]', true, '2026-11-20 10:00+00', '62000000-0000-0000-0000-00000000000b')$$,
    'PT404', NULL, 'a log against another user''s scene draft is not_found');

SELECT results_eq(
    $$SELECT scene_draft_id FROM public.insert_continuity_log(
          '63000000-0000-0000-0000-000000000003', NULL, 0.95, '[]', true,
          '2026-11-20 11:00+00', '62000000-0000-0000-0000-00000000000a')$$,
    $$VALUES ('62000000-0000-0000-0000-00000000000a'::uuid)$$,
    'a log may be recorded against the caller''s own scene draft');

SELECT throws_ok(
    $$UPDATE public.continuity_logs SET passed = true$$,
    '42501', NULL, 'logs cannot be changed once written');

-- upsert_recent_validation ----------------------------------------------------------------------
SELECT results_eq(
    $$SELECT scene_id, confidence, passed, issue_count, timestamp, user_id
      FROM public.upsert_recent_validation(7, 0.6, false, 2, '2026-11-20 10:00+00')$$,
    $$VALUES (7, 0.6::double precision, false, 2, '2026-11-20 10:00+00'::timestamptz,
              current_setting('t.a')::uuid)$$,
    'the first validation of a scene is stored');

SELECT results_eq(
    $$SELECT confidence, timestamp
      FROM public.upsert_recent_validation(7, 0.9, true, 0, '2026-11-20 12:00+00')$$,
    $$VALUES (0.9::double precision, '2026-11-20 12:00+00'::timestamptz)$$,
    'a newer validation replaces the stored one');

SELECT results_eq(
    $$SELECT confidence, timestamp
      FROM public.upsert_recent_validation(7, 0.1, false, 9, '2026-11-20 11:00+00')$$,
    $$VALUES (0.9::double precision, '2026-11-20 12:00+00'::timestamptz)$$,
    'an older validation arriving later changes nothing and returns the newest');

SELECT results_eq(
    $$SELECT confidence, passed, issue_count
      FROM public.upsert_recent_validation(7, 0.9, true, 0, '2026-11-20 12:00+00')$$,
    $$VALUES (0.9::double precision, true, 0)$$,
    'replaying the newest validation returns it unchanged');

SELECT is(
    (SELECT count(*) FROM public.continuity_recent_validations),
    1::bigint, 'a scene has one recent validation row');

SELECT '# stored' FROM public.upsert_recent_validation(8, 0.5, true, 0,
    '2026-11-20 12:00+00') AS v;
SELECT '# stored' FROM public.upsert_recent_validation(8, 0.7, true, 0,
    '2026-11-20 12:00+00') AS v;
SELECT '# stored' FROM public.upsert_recent_validation(9, 0.7, true, 0,
    '2026-11-20 12:00+00') AS v;
SELECT '# stored' FROM public.upsert_recent_validation(9, 0.5, true, 0,
    '2026-11-20 12:00+00') AS v;

SELECT results_eq(
    $$SELECT scene_id, confidence FROM public.continuity_recent_validations
      WHERE scene_id IN (8, 9) ORDER BY scene_id$$,
    $$VALUES (8, 0.7::double precision), (9, 0.7::double precision)$$,
    'validations with equal timestamps end in the same row whatever their arrival order');

SELECT throws_ok(
    $$SELECT public.upsert_recent_validation(7, -0.1, true, 0, '2026-11-21 12:00+00')$$,
    '22023', NULL, 'a negative confidence is invalid_input');

SELECT throws_ok(
    $$SELECT public.upsert_recent_validation(7, 0.5, true, -1, '2026-11-21 12:00+00')$$,
    '22023', 'issue_count must be >= 0', 'a negative issue_count is invalid_input');

SELECT throws_ok(
    $$INSERT INTO public.continuity_recent_validations
          (user_id, scene_id, confidence, passed, timestamp)
      VALUES (current_setting('t.a')::uuid, 99, 1, true, now())$$,
    '42501', NULL, 'recent validations cannot be written directly');

-- append_daily_analytics ------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT day, total_scenes, avg_confidence, scenes_passed, scenes_failed, user_id
      FROM public.append_daily_analytics('64000000-0000-0000-0000-000000000001',
          '2026-11-20 23:30-05', 4, 0.75, 3, 1, 0.5, 0.9, 0.15)$$,
    $$VALUES ('2026-11-21'::date, 4::bigint, 0.75::double precision, 3::bigint, 1::bigint,
              current_setting('t.a')::uuid)$$,
    'daily analytics are stored under the UTC day of their validation date');

SELECT results_eq(
    $$SELECT id FROM public.append_daily_analytics('64000000-0000-0000-0000-000000000001',
          '2026-11-20 23:30-05', 4, 0.75, 3, 1, 0.5, 0.9, 0.15)$$,
    $$VALUES ('64000000-0000-0000-0000-000000000001'::uuid)$$,
    'repeating the same append returns the stored row');

SELECT is(
    (SELECT count(*) FROM public.continuity_daily_analytics),
    1::bigint, 'a repeated append is stored once');

SELECT throws_ok(
    $$SELECT public.append_daily_analytics('64000000-0000-0000-0000-000000000002',
          '2026-11-21 08:00+00', 1, 0.5, 1, 0, 0.5, 0.5, 0)$$,
    'PT409', NULL, 'another id for a day that already has analytics is id_conflict');

SELECT throws_ok(
    $$SELECT public.append_daily_analytics('64000000-0000-0000-0000-000000000001',
          '2026-11-22 08:00+00', 4, 0.75, 3, 1, 0.5, 0.9, 0.15)$$,
    'PT409', NULL, 'the same id for another day is id_conflict');

SELECT throws_ok(
    $$SELECT public.append_daily_analytics('64000000-0000-0000-0000-000000000003',
          '2026-11-23 08:00+00', 2, 0.5, 2, 1, 0.5, 0.5, 0)$$,
    '22023', 'scenes_passed + scenes_failed cannot exceed total_scenes',
    'more passed and failed scenes than scenes is invalid_input');

SELECT throws_ok(
    $$SELECT public.append_daily_analytics('64000000-0000-0000-0000-000000000003',
          '2026-11-23 08:00+00', 2, 1.2, 1, 1, 0.5, 0.5, 0)$$,
    '22023', NULL, 'an average confidence above 1 is invalid_input');

SELECT throws_ok(
    $$SELECT public.append_daily_analytics('64000000-0000-0000-0000-000000000003',
          '2026-11-23 08:00+00', 2, 0.5, 1, 1, 0.5, 0.5, 'NaN')$$,
    '22023', NULL, 'a NaN standard deviation is invalid_input');

SELECT throws_ok(
    $$SELECT public.append_daily_analytics('64000000-0000-0000-0000-000000000003',
          '2026-11-23 08:00+00', 2, 0.5, 1, 1, 0.5, 0.5, 'Infinity')$$,
    '22023', NULL, 'an infinite standard deviation is invalid_input');

SELECT is(
    (SELECT count(*) FROM public.continuity_daily_analytics),
    1::bigint, 'rejected appends store nothing');

-- record_conflict_resolution --------------------------------------------------------------------
SELECT results_eq(
    $$SELECT kind, scene_id, scene_draft_id, confidence, passed, issues
      FROM public.record_conflict_resolution('65000000-0000-0000-0000-000000000001',
          'scene_drafts', '62000000-0000-0000-0000-00000000000a', 'merge',
          '["prompt_text", "duration"]')$$,
    $$VALUES ('conflict_resolution', NULL::integer,
              '62000000-0000-0000-0000-00000000000a'::uuid, 1::double precision, true,
              '{"table": "scene_drafts", "row_id": "62000000-0000-0000-0000-00000000000a",
                "resolution": "merge", "fields": ["prompt_text", "duration"]}'::jsonb)$$,
    'a scene draft conflict resolution is logged against the scene draft');

SELECT results_eq(
    $$SELECT id FROM public.record_conflict_resolution('65000000-0000-0000-0000-000000000001',
          'scene_drafts', '62000000-0000-0000-0000-00000000000a', 'merge',
          '["prompt_text", "duration"]')$$,
    $$VALUES ('65000000-0000-0000-0000-000000000001'::uuid)$$,
    'repeating a resolution returns the stored log');

SELECT is(
    (SELECT count(*) FROM public.continuity_logs WHERE kind = 'conflict_resolution'),
    1::bigint, 'a repeated resolution is logged once');

SELECT throws_ok(
    $$SELECT public.record_conflict_resolution('65000000-0000-0000-0000-000000000001',
          'scene_drafts', '62000000-0000-0000-0000-00000000000a', 'keep_local', '[]')$$,
    'PT409', NULL, 'reusing a resolution id for another resolution is id_conflict');

SELECT throws_ok(
    $$SELECT public.record_conflict_resolution('65000000-0000-0000-0000-000000000002',
          'scene_drafts', '62000000-0000-0000-0000-00000000000a', 'toss_a_coin', '[]')$$,
    '22023', 'resolution must be keep_local, keep_remote or merge',
    'an unknown resolution is invalid_input');

SELECT throws_ok(
    $$SELECT public.record_conflict_resolution('65000000-0000-0000-0000-000000000002',
          'credits_ledger', '62000000-0000-0000-0000-00000000000a', 'merge', '[]')$$,
    '22023', NULL, 'a resolution on a table that does not sync is invalid_input');

SELECT throws_ok(
    $$SELECT public.record_conflict_resolution('65000000-0000-0000-0000-000000000002',
          'scene_drafts', '62000000-0000-0000-0000-00000000000b', 'merge', '[]')$$,
    'PT404', NULL, 'a resolution on another user''s scene draft is not_found');

SELECT results_eq(
    $$SELECT scene_id, scene_draft_id, issues ->> 'resolution'
      FROM public.record_conflict_resolution('65000000-0000-0000-0000-000000000003',
          'project_overview', '61000000-0000-0000-0000-00000000000a', 'keep_remote', NULL)$$,
    $$VALUES (0, NULL::uuid, 'keep_remote')$$,
    'a resolution on a project is logged with scene_id 0 and no scene draft');

-- Isolation and privileges ----------------------------------------------------------------------
SELECT '# acting as user B' FROM tests.authenticate_as(current_setting('t.b')::uuid) AS b;

SELECT is(
    (SELECT count(*) FROM public.continuity_logs)
    + (SELECT count(*) FROM public.continuity_recent_validations)
    + (SELECT count(*) FROM public.continuity_daily_analytics),
    0::bigint, 'another user sees none of the first user''s continuity rows');

SELECT throws_ok(
    $$SELECT public.insert_continuity_log('63000000-0000-0000-0000-000000000001', 7, 0.8,
          '["lighting changed"]', false, '2026-11-20 10:00+00')$$,
    'PT409', NULL, 'another user cannot take over a log id');

SELECT throws_ok(
    $$SELECT public.append_daily_analytics('64000000-0000-0000-0000-000000000001',
          '2026-11-20 23:30-05', 4, 0.75, 3, 1, 0.5, 0.9, 0.15)$$,
    'PT409', NULL, 'another user cannot take over an analytics id');

SELECT results_eq(
    $$SELECT confidence, user_id FROM public.upsert_recent_validation(
          7, 0.2, false, 5, '2026-11-21 12:00+00')$$,
    $$VALUES (0.2::double precision, current_setting('t.b')::uuid)$$,
    'another user''s validation of the same scene number is their own row');

SELECT '# acting as anon' FROM tests.authenticate_as_anon() AS n;

SELECT throws_ok(
    $$SELECT public.insert_continuity_log('63000000-0000-0000-0000-000000000009', 1, 0.5,
          '[]', true, now())$$,
    '42501', NULL, 'anon cannot execute insert_continuity_log');

SELECT throws_ok(
    $$SELECT public.upsert_recent_validation(1, 0.5, true, 0, now())$$,
    '42501', NULL, 'anon cannot execute upsert_recent_validation');

SELECT throws_ok(
    $$SELECT public.append_daily_analytics('64000000-0000-0000-0000-000000000009', now(),
          1, 0.5, 1, 0, 0.5, 0.5, 0)$$,
    '42501', NULL, 'anon cannot execute append_daily_analytics');

SELECT throws_ok(
    $$SELECT public.record_conflict_resolution('65000000-0000-0000-0000-000000000009',
          'scene_drafts', '62000000-0000-0000-0000-00000000000a', 'merge', '[]')$$,
    '42501', NULL, 'anon cannot execute record_conflict_resolution');

SELECT '# back to the superuser' FROM tests.clear_authentication() AS c;

SELECT results_eq(
    $$SELECT user_id, confidence FROM public.continuity_recent_validations
      WHERE scene_id = 7 ORDER BY confidence$$,
    $$VALUES (current_setting('t.b')::uuid, 0.2::double precision),
             (current_setting('t.a')::uuid, 0.9::double precision)$$,
    'the other user''s calls left the first user''s rows unchanged');

SELECT * FROM finish();
ROLLBACK;
