-- batch_upsert_telemetry: increments per (user, element, UTC day), rate recomputation, replay
-- protection, input validation and isolation between users. Rolled back at the end.
SET LOCAL search_path = extensions, public;
SELECT plan(30);

SELECT set_config('t.a', tests.create_user('tel-a@example.com')::text, true);
SELECT set_config('t.b', tests.create_user('tel-b@example.com')::text, true);
SELECT set_config('t.today', (now() AT TIME ZONE 'UTC')::date::text, true);

-- Increments ------------------------------------------------------------------------------------
SELECT '# acting as user A' FROM tests.authenticate_as(current_setting('t.a')::uuid) AS a;

SELECT is(
    public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000001', '[
        {"element": "lighting", "attempts": 3, "successes": 2, "day": "2026-11-20"},
        {"element": "lighting", "attempts": 1, "successes": 1, "day": "2026-11-20"},
        {"element": "props", "attempts": 2, "successes": 0}
    ]'),
    '{"batch_id": "51000000-0000-0000-0000-000000000001", "applied": true, "elements": 2}'::jsonb,
    'a batch is applied and reports how many (element, day) rows it touched');

SELECT results_eq(
    $$SELECT attempts, successes, rate FROM public.continuity_telemetry
      WHERE element = 'lighting' AND day = '2026-11-20'$$,
    $$VALUES (4, 3, 0.75::double precision)$$,
    'events of one element and day are summed and the rate is successes / attempts');

SELECT results_eq(
    $$SELECT day, attempts, successes, rate FROM public.continuity_telemetry
      WHERE element = 'props'$$,
    $$VALUES (current_setting('t.today')::date, 2, 0, 0::double precision)$$,
    'an event without a day counts for the current UTC day');

SELECT is(
    public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000002', '[
        {"element": "lighting", "attempts": 6, "successes": 6, "day": "2026-11-20"},
        {"element": "lighting", "attempts": 5, "successes": 1, "day": "2026-11-21"}
    ]') ->> 'elements',
    '2', 'a second batch touches the existing row and a new day');

SELECT results_eq(
    $$SELECT day, attempts, successes, rate FROM public.continuity_telemetry
      WHERE element = 'lighting' ORDER BY day$$,
    $$VALUES ('2026-11-20'::date, 10, 9, 0.9::double precision),
             ('2026-11-21'::date, 5, 1, 0.2::double precision)$$,
    'a later batch adds to the stored counts and recomputes the rate; days are kept apart');

SELECT is(
    public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000003', '[
        {"element": "tone", "attempts": 0, "successes": 0, "day": null}
    ]') ->> 'applied',
    'true', 'zero attempts are accepted and a null day means today');

SELECT results_eq(
    $$SELECT day, attempts, rate FROM public.continuity_telemetry WHERE element = 'tone'$$,
    $$VALUES (current_setting('t.today')::date, 0, 0::double precision)$$,
    'the rate of an element with no attempts is 0');

-- Replays ---------------------------------------------------------------------------------------
SELECT is(
    public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000001', '[
        {"element": "lighting", "attempts": 3, "successes": 2, "day": "2026-11-20"}
    ]'),
    '{"batch_id": "51000000-0000-0000-0000-000000000001", "applied": false, "elements": 0}'::jsonb,
    'a replayed batch id reports that nothing was applied');

SELECT results_eq(
    $$SELECT attempts, successes FROM public.continuity_telemetry
      WHERE element = 'lighting' AND day = '2026-11-20'$$,
    $$VALUES (10, 9)$$,
    'a replayed batch adds nothing');

-- Bad input changes nothing ---------------------------------------------------------------------
SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000004',
        (SELECT jsonb_agg(jsonb_build_object('element', 'lighting', 'attempts', 1,
                                             'successes', 1, 'day', '2026-11-20'))
         FROM generate_series(1, 501)))$$,
    '22023', 'a batch holds at most 500 events, got 501',
    'a batch of more than 500 events is invalid_input');

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005', '[
        {"element": "lighting", "attempts": 1, "successes": 1, "day": "2026-11-20"},
        {"element": "lighting", "attempts": 1, "successes": 2, "day": "2026-11-20"}
    ]')$$,
    '22023', 'event 1: successes must be a whole number between 0 and attempts',
    'more successes than attempts is invalid_input, naming the event');

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005',
        '[{"element": "", "attempts": 1, "successes": 1}]')$$,
    '22023', NULL, 'an empty element is invalid_input');

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005',
        jsonb_build_array(jsonb_build_object(
            'element', repeat('x', 101), 'attempts', 1, 'successes', 1)))$$,
    '22023', NULL, 'an element longer than 100 characters is invalid_input');

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005',
        '[{"element": "lighting", "attempts": -1, "successes": 0}]')$$,
    '22023', NULL, 'negative attempts are invalid_input');

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005',
        '[{"element": "lighting", "attempts": 1.5, "successes": 1}]')$$,
    '22023', NULL, 'fractional attempts are invalid_input');

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005',
        '[{"element": "lighting", "attempts": "3", "successes": 1}]')$$,
    '22023', NULL, 'attempts given as text are invalid_input');

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005',
        '[{"element": "lighting", "attempts": 1, "successes": 1, "day": "2026-02-30"}]')$$,
    '22023', 'event 0: day must be an ISO date (YYYY-MM-DD)',
    'a day that is not a calendar date is invalid_input');

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005',
        '[{"element": "lighting", "attempts": 1, "successes": 1, "user_id": "x"}]')$$,
    '22023', 'event 0: an event has only element, attempts, successes and day',
    'an event with an unknown key is invalid_input');

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005',
        '{"element": "lighting", "attempts": 1, "successes": 1}')$$,
    '22023', 'events must be a JSON array', 'events that are not an array are invalid_input');

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005',
        '[{"element": "lighting", "attempts": 2147483647, "successes": 0, "day": "2026-11-20"}]')$$,
    '22023', 'the counts of an element and day would exceed 2147483647',
    'counts that would overflow are invalid_input');

SELECT results_eq(
    $$SELECT attempts, successes FROM public.continuity_telemetry
      WHERE element = 'lighting' AND day = '2026-11-20'$$,
    $$VALUES (10, 9)$$,
    'rejected batches changed no counts, not even through their valid events');

SELECT is(
    public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000005', (
        SELECT jsonb_agg(jsonb_build_object('element', 'lighting', 'attempts', 1,
                                            'successes', 0, 'day', '2026-11-20'))
        FROM generate_series(1, 500))) ->> 'applied',
    'true', 'a rejected batch id was not used up, and 500 events are accepted');

SELECT results_eq(
    $$SELECT attempts, successes FROM public.continuity_telemetry
      WHERE element = 'lighting' AND day = '2026-11-20'$$,
    $$VALUES (510, 9)$$,
    'the accepted batch of 500 events added all of them');

-- Privileges and isolation ----------------------------------------------------------------------
SELECT throws_ok(
    $$UPDATE public.continuity_telemetry SET attempts = 0$$,
    '42501', NULL, 'the owner cannot change telemetry rows directly');

SELECT '# acting as user B' FROM tests.authenticate_as(current_setting('t.b')::uuid) AS a;

SELECT is(
    (SELECT count(*) FROM public.continuity_telemetry),
    0::bigint, 'another user sees none of the first user''s telemetry');

SELECT is(
    public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000001', '[
        {"element": "lighting", "attempts": 1, "successes": 1, "day": "2026-11-20"}
    ]') ->> 'applied',
    'true', 'batch ids are per user: another user''s batch with the same id is applied');

SELECT results_eq(
    $$SELECT attempts, successes, rate FROM public.continuity_telemetry$$,
    $$VALUES (1, 1, 1::double precision)$$,
    'another user''s events go to their own row');

SELECT '# acting as anon' FROM tests.authenticate_as_anon() AS a;

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000009', '[]')$$,
    '42501', NULL, 'anon cannot execute batch_upsert_telemetry');

SELECT '# acting as the service role' FROM tests.authenticate_as_service_role() AS a;

SELECT throws_ok(
    $$SELECT public.batch_upsert_telemetry('51000000-0000-0000-0000-000000000009', '[]')$$,
    'PT401', NULL, 'a call without a signed-in user is not_authenticated');

SELECT '# back to the superuser' FROM tests.clear_authentication() AS a;

SELECT results_eq(
    $$SELECT user_id, attempts, successes FROM public.continuity_telemetry
      WHERE element = 'lighting' AND day = '2026-11-20' ORDER BY attempts$$,
    $$VALUES (current_setting('t.b')::uuid, 1, 1), (current_setting('t.a')::uuid, 510, 9)$$,
    'each user''s counts are kept apart');

SELECT * FROM finish();
ROLLBACK;
