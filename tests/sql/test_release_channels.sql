-- Release channels: the stable hash and the canary share, my_release_channel, the canary share
-- setting, record_sync_metrics (channel stamping, replays, validation, isolation), the daily
-- rollup per channel, the histogram median and release_health. Rolled back at the end.
SET LOCAL search_path = extensions, public;
SELECT plan(36);

-- C is in the canary at 5 % (bucket 300), S is not (bucket 949).
INSERT INTO auth.users (id, email, aud, role, is_anonymous) VALUES
    ('73000000-0000-0000-0000-000000000017', 'canary@example.com', 'authenticated',
     'authenticated', false),
    ('73000000-0000-0000-0000-000000000002', 'stable@example.com', 'authenticated',
     'authenticated', false);
SELECT set_config('t.c', '73000000-0000-0000-0000-000000000017', true);
SELECT set_config('t.s', '73000000-0000-0000-0000-000000000002', true);
SELECT set_config('t.today', (now() AT TIME ZONE 'UTC')::date::text, true);

-- The hash ----------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT private.release_bucket(u::uuid) FROM (VALUES
        ('00000000-0000-0000-0000-000000000001'), ('7d9f1a52-3c4b-4e8a-9f10-2b6c8d4e5f60'),
        ('ffffffff-ffff-ffff-ffff-ffffffffffff')) AS v (u)$$,
    $$VALUES (4862), (8830), (4477)$$,
    'a user''s bucket is the first 32 bits of md5(id) mod 10000, the same on every server');

SELECT is(
    (SELECT count(*) FROM generate_series(1, 1000) AS i
     WHERE private.release_bucket(md5(i::text)::uuid) IS DISTINCT FROM
         (('x' || substr(md5(md5(i::text)::uuid::text), 1, 8))::bit(32)::bigint % 10000)::int),
    0::bigint, 'the bucket depends only on the id');

-- 20000 users with ids derived from 1..20000, and their channels at 5 %, 20 % and 50 %.
CREATE TEMP TABLE population ON COMMIT DROP AS
SELECT
    private.release_channel_for(u, 5) AS at_5,
    private.release_channel_for(u, 20) AS at_20,
    private.release_channel_for(u, 50) AS at_50
FROM (SELECT md5(i::text)::uuid AS u FROM generate_series(1, 20000) AS i) AS p;

SELECT ok(
    (SELECT count(*) FILTER (WHERE at_5 = 'canary') FROM population) BETWEEN 900 AND 1100,
    'a 5 % share puts 5 % (+- 0.5 %) of 20000 users in the canary');

SELECT ok(
    (SELECT count(*) FILTER (WHERE at_50 = 'canary') FROM population) BETWEEN 9700 AND 10300,
    'a 50 % share puts half of the users in the canary');

SELECT is(
    (SELECT count(*) FROM population WHERE at_5 = 'canary' AND at_20 <> 'canary'),
    0::bigint, 'raising the share keeps every canary user in the canary');

SELECT results_eq(
    $$SELECT private.release_channel_for(current_setting('t.c')::uuid, p),
             private.release_channel_for(current_setting('t.s')::uuid, p)
      FROM (VALUES (0::numeric), (3), (5), (9.5), (100)) AS v (p)$$,
    $$VALUES ('stable', 'stable'), ('stable', 'stable'), ('canary', 'stable'),
             ('canary', 'canary'), ('canary', 'canary')$$,
    'a user is in the canary exactly when the bucket is below share * 100');

SELECT is(
    (SELECT canary_percent FROM private.release_settings), 5.00::numeric(5, 2),
    'the canary share is 5 % by default');

-- my_release_channel and the share setting --------------------------------------------------------
SELECT tests.authenticate_as(current_setting('t.c')::uuid);
SELECT is(public.my_release_channel(), 'canary', 'a canary user reads canary');
SELECT tests.authenticate_as(current_setting('t.s')::uuid);
SELECT is(public.my_release_channel(), 'stable', 'another user reads stable');
SELECT throws_ok(
    $$SELECT public.set_canary_percent(100)$$, '42501', NULL,
    'a signed-in user cannot change the canary share');
SELECT throws_ok(
    $$SELECT canary_percent FROM private.release_settings$$, '42501', NULL,
    'a signed-in user cannot read the settings row directly');

SELECT tests.authenticate_as_anon();
SELECT throws_ok(
    $$SELECT public.my_release_channel()$$, '42501', NULL, 'anon has no release channel');

SELECT tests.authenticate_as_service_role();
SELECT is(public.set_canary_percent(10), 10.00::numeric, 'the service role sets the share');
SELECT is(public.set_canary_percent(10), 10.00::numeric, 'setting the same share again is a no-op');
SELECT throws_ok(
    $$SELECT public.set_canary_percent(100.5)$$, '22023',
    'the canary share is a percent 0..100', 'a share above 100 % is invalid_input');
SELECT tests.authenticate_as(current_setting('t.s')::uuid);
SELECT is(public.my_release_channel(), 'canary', 'a larger share moves the user in');
SELECT tests.authenticate_as_service_role();
SELECT is(public.set_canary_percent(5), 5.00::numeric, 'the share goes back to 5 %');

-- record_sync_metrics ------------------------------------------------------------------------------
SELECT tests.authenticate_as(current_setting('t.c')::uuid);
SELECT is(
    public.record_sync_metrics('74000000-0000-0000-0000-000000000001', '[
        {"metric": "sync_outcome", "bucket": "confirmed", "count": 90, "day": "2026-11-20"},
        {"metric": "sync_outcome", "bucket": "confirmed", "count": 8, "day": "2026-11-20"},
        {"metric": "sync_outcome", "bucket": "dead", "count": 2, "day": "2026-11-20"},
        {"metric": "create_to_confirm_ms", "bucket": "500", "count": 60, "day": "2026-11-20"},
        {"metric": "create_to_confirm_ms", "bucket": "inf", "count": 40, "day": "2026-11-20"}
    ]'),
    '{"batch_id": "74000000-0000-0000-0000-000000000001", "applied": true, "rows": 4,
      "channel": "canary"}'::jsonb,
    'a batch is summed per day, metric and bucket and stamped with the user''s channel');
SELECT is(
    public.record_sync_metrics('74000000-0000-0000-0000-000000000001', '[
        {"metric": "sync_outcome", "bucket": "dead", "count": 50, "day": "2026-11-20"}]') ->> 'applied',
    'false', 'a replayed batch id is not applied');
SELECT results_eq(
    $$SELECT channel, metric, bucket, count FROM public.sync_metrics ORDER BY metric, bucket$$,
    $$VALUES ('canary', 'create_to_confirm_ms', '500', 60::bigint),
             ('canary', 'create_to_confirm_ms', 'inf', 40::bigint),
             ('canary', 'sync_outcome', 'confirmed', 98::bigint),
             ('canary', 'sync_outcome', 'dead', 2::bigint)$$,
    'the owner reads their counts; the replay added nothing');
SELECT is(
    (tests.error_of($$SELECT public.record_sync_metrics(gen_random_uuid(),
        '[{"metric": "create_to_confirm_ms", "bucket": "750", "count": 1}]')$$)) ->> 'code',
    'invalid_input', 'a bucket that is not a histogram bound is invalid_input');
SELECT is(
    (tests.error_of($$SELECT public.record_sync_metrics(gen_random_uuid(),
        '[{"metric": "sync_outcome", "bucket": "lost", "count": 1}]')$$)) ->> 'code',
    'invalid_input', 'an unknown outcome is invalid_input');
SELECT is(
    (tests.error_of($$SELECT public.record_sync_metrics(gen_random_uuid(),
        '[{"metric": "sync_outcome", "bucket": "dead", "count": 1.5}]')$$)) ->> 'code',
    'invalid_input', 'a fractional count is invalid_input');
SELECT is(
    (SELECT sum(count) FROM public.sync_metrics), 200::numeric, 'rejected batches changed nothing');

SELECT tests.authenticate_as(current_setting('t.s')::uuid);
SELECT is((SELECT count(*) FROM public.sync_metrics), 0::bigint, 'another user reads no counts');
SELECT is(
    public.record_sync_metrics('74000000-0000-0000-0000-000000000002', '[
        {"metric": "sync_outcome", "bucket": "confirmed", "count": 100},
        {"metric": "sync_outcome", "bucket": "retried", "count": 1},
        {"metric": "create_to_confirm_ms", "bucket": "1000", "count": 100}
    ]') ->> 'channel',
    'stable', 'another user''s counts go to the stable channel; no day means today');
SELECT throws_ok(
    $$UPDATE public.sync_metrics SET count = 0$$, '42501', NULL,
    'the owner cannot change counts directly');

SELECT tests.authenticate_as_anon();
SELECT throws_ok(
    $$SELECT public.record_sync_metrics(gen_random_uuid(), '[]')$$, '42501', NULL,
    'anon cannot record sync metrics');

-- The rollup per day and channel -------------------------------------------------------------------
SELECT tests.authenticate_as_service_role();
SELECT is(
    public.run_daily_rollups('2026-11-20') ->> 'release_channel_daily', '4',
    'the daily rollup writes the day''s counts per channel, metric and bucket');
SELECT is(
    public.run_daily_rollups('2026-11-20') ->> 'release_channel_daily', '0',
    'a second run writes nothing');
SELECT results_eq(
    $$SELECT channel, metric, bucket, count, user_count FROM private.release_channel_daily
      WHERE day = '2026-11-20' ORDER BY metric, bucket$$,
    $$VALUES ('canary', 'create_to_confirm_ms', '500', 60::bigint, 1),
             ('canary', 'create_to_confirm_ms', 'inf', 40::bigint, 1),
             ('canary', 'sync_outcome', 'confirmed', 98::bigint, 1),
             ('canary', 'sync_outcome', 'dead', 2::bigint, 1)$$,
    'the rollup holds the summed counts and the number of users');

-- The median and release health ----------------------------------------------------------------------
SELECT results_eq(
    $$SELECT private.histogram_median(ARRAY[250, 500, 1000], c) FROM (VALUES
        (ARRAY[10, 0, 0, 0]::bigint []), (ARRAY[0, 5, 5, 0]::bigint []),
        (ARRAY[1, 0, 0, 9]::bigint []), (ARRAY[0, 0, 0, 0]::bigint [])) AS v (c)$$,
    $$VALUES (125::double precision), (500), (1000), (NULL)$$,
    'the median interpolates inside its bucket, a full open bucket gives its lower bound, '
    'no samples give NULL');

SELECT is(
    (SELECT round(private.histogram_median(ARRAY[1000, 3000], ARRAY[1, 1, 2]::bigint [])::numeric)),
    3000::numeric, 'half of the samples at or below a bound puts the median on that bound');

SELECT public.run_daily_rollups(current_setting('t.today')::date);
SELECT results_eq(
    $$SELECT channel, confirmed, retried, dead, round(failure_rate::numeric, 4), latency_samples,
             round(median_ms::numeric)
      FROM public.release_health(1)$$,
    $$VALUES ('canary', 0::bigint, 0::bigint, 0::bigint, NULL::numeric, 0::bigint, NULL::numeric),
             ('stable', 100, 1, 0, 0.0099, 100, 750)$$,
    'release health over today: outcomes, failure rate and median per channel');

UPDATE private.release_channel_daily SET day = current_setting('t.today')::date - 3
WHERE day = '2026-11-20';
SELECT results_eq(
    $$SELECT channel, confirmed, dead, round(failure_rate::numeric, 2), round(median_ms::numeric)
      FROM public.release_health(4) WHERE channel = 'canary'$$,
    $$VALUES ('canary', 98::bigint, 2::bigint, 0.02::numeric, 458::numeric)$$,
    'a longer window takes in earlier days');

SELECT tests.authenticate_as(current_setting('t.s')::uuid);
SELECT throws_ok(
    $$SELECT * FROM public.release_health(7)$$, '42501', NULL,
    'a signed-in user cannot read release health');

SELECT * FROM finish();
ROLLBACK;
