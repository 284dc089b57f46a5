-- Clip jobs: enqueue charges once (first clip free exactly once), status and list for the owner,
-- cancel and failure refund exactly once, provider events are replay-safe and order-safe, and
-- dispatch failures end in a refunded failure.
SET LOCAL search_path = extensions, public;
SELECT plan(88);

-- Setup statements print fixed labels, never generated ids: pytest-pgtap's TAP parser reads a
-- line such as '1a42...' as a plan.
SELECT 'owner signed up'
FROM set_config('t.owner', tests.create_user('clips-owner@example.com')::text, true);
SELECT 'other signed up'
FROM set_config('t.other', tests.create_user('clips-other@example.com')::text, true);

INSERT INTO public.project_overview (project_id, user_id, title) VALUES
('51000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid, 'Pilot'),
('51000000-0000-0000-0000-000000000002', current_setting('t.owner')::uuid, 'Sequel'),
('51000000-0000-0000-0000-000000000003', current_setting('t.other')::uuid, 'Theirs');

INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, duration)
VALUES
('52000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid,
 '51000000-0000-0000-0000-000000000001', 0, 'Opening', 4),
('52000000-0000-0000-0000-000000000002', current_setting('t.other')::uuid,
 '51000000-0000-0000-0000-000000000003', 0, 'Their opening', 4);

SELECT is(
    (SELECT credits FROM public.grant_credits(current_setting('t.owner'), 2, 'grant:clips:1')),
    2, 'the owner starts with two credits');

-- enqueue_clip_job ---------------------------------------------------------------------------
SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);

SELECT results_eq(
    $$SELECT charge, status, user_id, progress, attempts FROM public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000001', current_setting('t.owner'), 'A sunrise')$$,
    $$VALUES ('free', 'queued', current_setting('t.owner')::uuid, 0::smallint, 0)$$,
    'the first clip of an account is queued free of charge');

SELECT results_eq(
    $$SELECT credits, first_clip_consumed FROM public.get_credits()$$,
    $$VALUES (2, true)$$, 'the free first clip is used up and no credit is charged');

SELECT results_eq(
    $$SELECT id, charge, version FROM public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000001', current_setting('t.owner'), 'A sunrise')$$,
    $$VALUES ('50000000-0000-0000-0000-000000000001'::uuid, 'free', 1::bigint)$$,
    'a replayed enqueue returns the same job unchanged');

SELECT is(
    (SELECT credits FROM public.get_credits()), 2, 'a replayed enqueue charges nothing');

SELECT is(
    tests.error_of($$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000001', current_setting('t.owner'), 'A sunset')$$)
    ->> 'code',
    'id_conflict', 'reusing a job id for a different prompt is an id conflict');

SELECT results_eq(
    $$SELECT charge, project_id, scene_draft_id FROM public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000002', current_setting('t.owner'), 'The opening',
        '51000000-0000-0000-0000-000000000001', '52000000-0000-0000-0000-000000000001')$$,
    $$VALUES ('credit', '51000000-0000-0000-0000-000000000001'::uuid,
              '52000000-0000-0000-0000-000000000001'::uuid)$$,
    'a later clip of a scene is charged one credit');

SELECT is(
    (SELECT charge FROM public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000003', current_setting('t.owner'), 'A chase')),
    'credit', 'the last credit pays for another clip');

SELECT is((SELECT credits FROM public.get_credits()), 0, 'two paid clips used both credits');

SELECT throws_ok(
    $$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000004', current_setting('t.owner'), 'One too many')$$,
    'PT402', 'not enough credits for another clip',
    'without credits and without the free clip an enqueue is insufficient_credits');

SELECT throws_ok(
    $$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000009', current_setting('t.owner'), '')$$,
    '22023', 'the prompt must have 1 to 2000 characters', 'an empty prompt is invalid');

SELECT throws_ok(
    $$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000009', current_setting('t.owner'), repeat('x', 2001))$$,
    '22023', 'the prompt must have 1 to 2000 characters',
    'a prompt over 2000 characters is invalid');

SELECT throws_ok(
    $$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000009', current_setting('t.other'), 'Theirs')$$,
    'PT404', 'no such credits account', 'another user''s credits account is not_found');

SELECT throws_ok(
    $$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000009', current_setting('t.owner'), 'Theirs',
        '51000000-0000-0000-0000-000000000003')$$,
    'PT404', 'no such project', 'another user''s project is not_found');

SELECT throws_ok(
    $$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000009', current_setting('t.owner'), 'Theirs', NULL,
        '52000000-0000-0000-0000-000000000002')$$,
    'PT404', 'no such scene draft', 'another user''s scene draft is not_found');

SELECT throws_ok(
    $$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000009', current_setting('t.owner'), 'Mixed',
        '51000000-0000-0000-0000-000000000002', '52000000-0000-0000-0000-000000000001')$$,
    '22023', 'the scene draft belongs to another project',
    'a scene draft of another project is invalid');

SELECT throws_ok(
    $$UPDATE public.clip_jobs SET status = 'completed', download_url = 'http://x/y.mp4'
      WHERE id = '50000000-0000-0000-0000-000000000001'$$,
    '42501', NULL, 'the owner cannot write a job directly');

SELECT throws_ok(
    $$INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge)
      VALUES ('50000000-0000-0000-0000-000000000009', current_setting('t.owner')::uuid,
              current_setting('t.owner'), 'Sneaky', 'free')$$,
    '42501', NULL, 'the owner cannot insert a job without paying');

SELECT 'clear_authentication' FROM tests.clear_authentication();

SELECT results_eq(
    $$SELECT idempotency_key, kind, delta, balance_after, clip_job_id
      FROM public.credit_transactions
      WHERE user_key = current_setting('t.owner') AND kind <> 'grant' ORDER BY id$$,
    $$VALUES
        ('consume:50000000-0000-0000-0000-000000000001', 'first_clip', 0, 2,
         '50000000-0000-0000-0000-000000000001'::uuid),
        ('consume:50000000-0000-0000-0000-000000000002', 'consume', -1, 1,
         '50000000-0000-0000-0000-000000000002'::uuid),
        ('consume:50000000-0000-0000-0000-000000000003', 'consume', -1, 0,
         '50000000-0000-0000-0000-000000000003'::uuid)$$,
    'each charged job appended exactly one transaction and rejected calls appended none');

SELECT is_empty(
    $$SELECT * FROM public.clip_jobs WHERE id IN ('50000000-0000-0000-0000-000000000004',
        '50000000-0000-0000-0000-000000000009')$$,
    'rejected enqueues created no job');

SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.other')::uuid);

SELECT is(
    tests.error_of($$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000001', current_setting('t.other'), 'A sunrise')$$)
    ->> 'code',
    'id_conflict', 'another user''s job id is an id conflict');

SELECT is(
    (SELECT charge FROM public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000031', current_setting('t.other'), 'Their clip')),
    'free', 'every account gets its own free first clip');

SELECT throws_ok(
    $$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000032', current_setting('t.other'), 'Second')$$,
    'PT402', NULL, 'the free first clip is given exactly once');

SELECT 'authenticate_as_anon' FROM tests.authenticate_as_anon();

SELECT throws_ok(
    $$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000033', current_setting('t.other'), 'Anon')$$,
    '42501', NULL, 'anon cannot enqueue');

SELECT 'authenticate_as_service_role' FROM tests.authenticate_as_service_role();

SELECT throws_ok(
    $$SELECT public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000033', current_setting('t.other'), 'Nobody')$$,
    'PT401', 'sign in first', 'an enqueue without a signed-in user is not_authenticated');

-- get_clip_job_status and list_clip_jobs ------------------------------------------------------
SELECT 'clear_authentication' FROM tests.clear_authentication();

UPDATE public.clip_jobs SET submitted_at = now() - interval '3 minutes'
WHERE id = '50000000-0000-0000-0000-000000000001';
UPDATE public.clip_jobs SET submitted_at = now() - interval '1 minute'
WHERE id = '50000000-0000-0000-0000-000000000002';

SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);

SELECT results_eq(
    $$SELECT status, prompt FROM public.get_clip_job_status(
        '50000000-0000-0000-0000-000000000002')$$,
    $$VALUES ('queued', 'The opening')$$, 'get_clip_job_status returns the owner''s job');

SELECT throws_ok(
    $$SELECT public.get_clip_job_status('50000000-0000-0000-0000-000000000031')$$,
    'PT404', 'no such clip job', 'another user''s job is not_found');

SELECT results_eq(
    $$SELECT id FROM public.list_clip_jobs()$$,
    $$VALUES ('50000000-0000-0000-0000-000000000003'::uuid),
             ('50000000-0000-0000-0000-000000000002'::uuid),
             ('50000000-0000-0000-0000-000000000001'::uuid)$$,
    'list_clip_jobs returns only the caller''s jobs, newest first');

SELECT results_eq(
    $$SELECT id FROM public.list_clip_jobs(1, 1)$$,
    $$VALUES ('50000000-0000-0000-0000-000000000002'::uuid)$$,
    'list_clip_jobs pages with limit and offset');

SELECT throws_ok(
    $$SELECT * FROM public.list_clip_jobs(0)$$,
    '22023', 'the limit must be between 1 and 200', 'a limit of zero is invalid');

SELECT throws_ok(
    $$SELECT * FROM public.list_clip_jobs(201)$$,
    '22023', 'the limit must be between 1 and 200', 'a limit over 200 is invalid');

SELECT throws_ok(
    $$SELECT * FROM public.list_clip_jobs(10, -1)$$,
    '22023', 'the offset must not be negative', 'a negative offset is invalid');

-- cancel_clip_job ----------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT status, refunded_at IS NOT NULL, canceled_at IS NOT NULL
      FROM public.cancel_clip_job('50000000-0000-0000-0000-000000000002')$$,
    $$VALUES ('canceled', true, true)$$,
    'canceling a queued job cancels and refunds it');

SELECT is((SELECT credits FROM public.get_credits()), 1, 'canceling a paid job returns its credit');

SELECT results_eq(
    $$SELECT status, version FROM public.cancel_clip_job('50000000-0000-0000-0000-000000000002')$$,
    $$SELECT status, version FROM public.clip_jobs
      WHERE id = '50000000-0000-0000-0000-000000000002'$$,
    'canceling again returns the canceled job unchanged');

SELECT is((SELECT credits FROM public.get_credits()), 1, 'canceling again refunds nothing more');

SELECT throws_ok(
    $$SELECT public.cancel_clip_job('50000000-0000-0000-0000-000000000031')$$,
    'PT404', 'no such clip job', 'another user''s job cannot be canceled');

SELECT throws_ok(
    $$SELECT public.cancel_clip_job('50000000-0000-0000-0000-0000000000ff')$$,
    'PT404', 'no such clip job', 'canceling an unknown job is not_found');

SELECT 'authenticate_as_service_role' FROM tests.authenticate_as_service_role();
SELECT is(
    public.apply_clip_event('ev-j3-start', '50000000-0000-0000-0000-000000000003', 'processing', 40)
    ->> 'outcome',
    'applied', 'a processing event starts a queued job');
SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);

SELECT is(
    (SELECT status FROM public.cancel_clip_job('50000000-0000-0000-0000-000000000003')),
    'canceled', 'a processing job can be canceled');

SELECT is((SELECT credits FROM public.get_credits()), 2, 'canceling a processing job refunds it');

SELECT is(
    (SELECT status FROM public.cancel_clip_job('50000000-0000-0000-0000-000000000001')),
    'canceled', 'a free job can be canceled');

SELECT results_eq(
    $$SELECT credits, first_clip_consumed FROM public.get_credits()$$,
    $$VALUES (2, false)$$, 'canceling the free clip gives the free clip back, not a credit');

SELECT is(
    (SELECT charge FROM public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000005', current_setting('t.owner'), 'Again free')),
    'free', 'the returned free clip can be used once more');

-- apply_clip_event ---------------------------------------------------------------------------
SELECT 'authenticate_as_service_role' FROM tests.authenticate_as_service_role();

SELECT throws_ok(
    $$SELECT public.apply_clip_event('ev-j5-done', '50000000-0000-0000-0000-000000000005',
        'completed')$$,
    '22023', 'a completed event needs a download URL',
    'completed without a download URL is invalid');

SELECT results_eq(
    $$SELECT r ->> 'outcome', r -> 'job' ->> 'status', (r -> 'job' ->> 'progress')::int,
             r -> 'job' ->> 'started_at' IS NOT NULL
      FROM public.apply_clip_event('ev-j5-done', '50000000-0000-0000-0000-000000000005',
          'completed', NULL, 'http://cdn.test/j5.mp4') AS r$$,
    $$VALUES ('applied', 'completed', 100, true)$$,
    'completed before processing passes the job through processing to completed');

SELECT is(
    public.apply_clip_event('ev-j5-late-start', '50000000-0000-0000-0000-000000000005',
        'processing', 10) ->> 'outcome',
    'stale', 'a processing event arriving after completion is stale');

SELECT is(
    public.apply_clip_event('ev-j5-late-fail', '50000000-0000-0000-0000-000000000005',
        'failed', NULL, NULL, 'boom') ->> 'outcome',
    'stale', 'a failure arriving after completion is stale');

SELECT results_eq(
    $$SELECT status, progress, download_url, error_message, refunded_at
      FROM public.clip_jobs WHERE id = '50000000-0000-0000-0000-000000000005'$$,
    $$VALUES ('completed', 100::smallint, 'http://cdn.test/j5.mp4', NULL::text,
              NULL::timestamptz)$$,
    'late events leave the completed job as it was');

SELECT results_eq(
    $$SELECT event_id, status, outcome FROM private.clip_events
      WHERE job_id = '50000000-0000-0000-0000-000000000005' ORDER BY received_at, event_id$$,
    $$VALUES ('ev-j5-done', 'completed', 'applied'), ('ev-j5-late-fail', 'failed', 'stale'),
             ('ev-j5-late-start', 'processing', 'stale')$$,
    'every accepted event id is recorded with its outcome');

SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);
SELECT is(
    tests.error_of($$SELECT public.cancel_clip_job('50000000-0000-0000-0000-000000000005')$$)
    ->> 'code',
    'invalid_transition', 'a completed job cannot be canceled');
SELECT throws_ok(
    $$SELECT public.apply_clip_event('ev-forged', '50000000-0000-0000-0000-000000000002',
        'processing')$$,
    '42501', NULL, 'a signed-in user cannot post provider events');
SELECT 'clear_authentication' FROM tests.clear_authentication();

SELECT is(
    (SELECT credits FROM public.grant_credits(current_setting('t.owner'), 5, 'grant:clips:2')),
    7, 'the owner is granted five more credits');

SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);
SELECT is(
    (SELECT charge FROM public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000011', current_setting('t.owner'), 'Progress')),
    'credit', 'a job for the progress events is charged a credit');
SELECT 'authenticate_as_service_role' FROM tests.authenticate_as_service_role();

SELECT results_eq(
    $$SELECT r ->> 'outcome', r -> 'job' ->> 'status', (r -> 'job' ->> 'progress')::int,
             r -> 'job' ->> 'provider_job_id'
      FROM public.apply_clip_event('ev-e1-10', '50000000-0000-0000-0000-000000000011',
          'processing', 10, NULL, NULL, 'prov-e1') AS r$$,
    $$VALUES ('applied', 'processing', 10, 'prov-e1')$$,
    'a processing event sets the progress and the provider''s job id');

SELECT results_eq(
    $$SELECT r ->> 'outcome', (r -> 'job' ->> 'version')::bigint
      FROM public.apply_clip_event('ev-e1-10', '50000000-0000-0000-0000-000000000011',
          'processing', 10) AS r$$,
    $$SELECT 'duplicate', version FROM public.clip_jobs
      WHERE id = '50000000-0000-0000-0000-000000000011'$$,
    'a replayed event id is a duplicate and returns the job unchanged');

SELECT is(
    public.apply_clip_event('ev-e1-60', '50000000-0000-0000-0000-000000000011',
        'processing', 60) ->> 'outcome',
    'applied', 'a later progress event raises the progress');

SELECT results_eq(
    $$SELECT r ->> 'outcome', (r -> 'job' ->> 'progress')::int
      FROM public.apply_clip_event('ev-e1-30', '50000000-0000-0000-0000-000000000011',
          'processing', 30) AS r$$,
    $$VALUES ('stale', 60)$$, 'progress never goes backwards');

SELECT throws_ok(
    $$SELECT public.apply_clip_event('ev-x', '50000000-0000-0000-0000-0000000000ff',
        'processing')$$,
    'PT404', 'no such clip job', 'an event for an unknown job is not_found');

SELECT throws_ok(
    $$SELECT public.apply_clip_event('ev-x', '50000000-0000-0000-0000-000000000011', 'exploded')$$,
    '22023', NULL, 'an unknown status is invalid');

SELECT throws_ok(
    $$SELECT public.apply_clip_event('ev-x', '50000000-0000-0000-0000-000000000011',
        'processing', 150)$$,
    '22023', 'the progress must be between 0 and 100', 'a progress over 100 is invalid');

SELECT is(
    tests.error_of($$SELECT public.apply_clip_event(
        'ev-e1-10', '50000000-0000-0000-0000-000000000005',
        'processing')$$) ->> 'code',
    'id_conflict', 'an event id reused for another job is an id conflict');

SELECT is_empty(
    $$SELECT * FROM private.clip_events WHERE event_id = 'ev-x'$$,
    'rejected events are not recorded');

-- failure refunds once
SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);
SELECT is(
    (SELECT charge FROM public.enqueue_clip_job(
        '50000000-0000-0000-0000-000000000013', current_setting('t.owner'), 'Doomed')),
    'credit', 'a job that will fail is charged a credit');
SELECT is((SELECT credits FROM public.get_credits()), 5, 'two more paid jobs leave five credits');
SELECT 'authenticate_as_service_role' FROM tests.authenticate_as_service_role();

SELECT results_eq(
    $$SELECT r ->> 'outcome', r -> 'job' ->> 'status', r -> 'job' ->> 'error_message',
             r -> 'job' ->> 'refunded_at' IS NOT NULL
      FROM public.apply_clip_event('ev-e3-fail', '50000000-0000-0000-0000-000000000013',
          'failed', NULL, NULL, 'out of memory') AS r$$,
    $$VALUES ('applied', 'failed', 'out of memory', true)$$,
    'a failed event fails the job with its error and refunds it');

SELECT is(
    public.apply_clip_event('ev-e3-fail-again', '50000000-0000-0000-0000-000000000013',
        'failed', NULL, NULL, 'again') ->> 'outcome',
    'stale', 'a second failure event for the job is stale');

SELECT is(
    public.apply_clip_event('ev-j2-fail', '50000000-0000-0000-0000-000000000002',
        'failed', NULL, NULL, 'late') ->> 'outcome',
    'stale', 'a failure event for a canceled job is stale');

SELECT 'clear_authentication' FROM tests.clear_authentication();

SELECT results_eq(
    $$SELECT clip_job_id, count(*) FROM public.credit_transactions
      WHERE kind IN ('refund', 'first_clip_refund') AND user_key = current_setting('t.owner')
      GROUP BY clip_job_id ORDER BY clip_job_id$$,
    $$VALUES ('50000000-0000-0000-0000-000000000001'::uuid, 1::bigint),
             ('50000000-0000-0000-0000-000000000002'::uuid, 1::bigint),
             ('50000000-0000-0000-0000-000000000003'::uuid, 1::bigint),
             ('50000000-0000-0000-0000-000000000013'::uuid, 1::bigint)$$,
    'each canceled or failed job was refunded exactly once');

SELECT is(
    (SELECT credits FROM public.credits_ledger WHERE user_key = current_setting('t.owner')),
    6, 'the failure returned exactly one credit');

-- record_clip_dispatch and clip_jobs_awaiting_dispatch ----------------------------------------
SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);
SELECT is(
    (SELECT count(*) FROM (
        SELECT public.enqueue_clip_job('50000000-0000-0000-0000-000000000021',
            current_setting('t.owner'), 'Dispatch me')
        UNION ALL
        SELECT public.enqueue_clip_job('50000000-0000-0000-0000-000000000022',
            current_setting('t.owner'), 'Never dispatched')) AS q),
    2::bigint, 'two jobs are enqueued for dispatch');
SELECT 'clear_authentication' FROM tests.clear_authentication();

UPDATE public.clip_jobs SET submitted_at = now() - interval '10 minutes'
WHERE id = '50000000-0000-0000-0000-000000000022';

SELECT 'authenticate_as_service_role' FROM tests.authenticate_as_service_role();

SELECT results_eq(
    $$SELECT id FROM public.clip_jobs_awaiting_dispatch()$$,
    $$VALUES ('50000000-0000-0000-0000-000000000022'::uuid),
             ('50000000-0000-0000-0000-000000000021'::uuid),
             ('50000000-0000-0000-0000-000000000031'::uuid)$$,
    'queued jobs not accepted by the provider await dispatch, oldest first');

SELECT throws_ok(
    $$SELECT * FROM public.clip_jobs_awaiting_dispatch(0)$$,
    '22023', NULL, 'a dispatch queue limit of zero is invalid');

SELECT throws_ok(
    $$SELECT public.record_clip_dispatch('50000000-0000-0000-0000-000000000021', true)$$,
    '22023', NULL, 'a successful dispatch needs the provider''s job id');

SELECT results_eq(
    $$SELECT status, attempts, provider_job_id FROM public.record_clip_dispatch(
        '50000000-0000-0000-0000-000000000021', true, 'prov-21')$$,
    $$VALUES ('queued', 1, 'prov-21')$$,
    'a successful dispatch counts the attempt and stores the provider''s job id');

SELECT results_eq(
    $$SELECT id FROM public.clip_jobs_awaiting_dispatch(1)$$,
    $$VALUES ('50000000-0000-0000-0000-000000000022'::uuid)$$,
    'an accepted job no longer awaits dispatch');

SELECT results_eq(
    $$SELECT status, attempts, error_message, refunded_at IS NULL
      FROM public.record_clip_dispatch('50000000-0000-0000-0000-000000000022', false, NULL,
          'provider unreachable', 3)$$,
    $$VALUES ('queued', 1, 'provider unreachable', true)$$,
    'a failed dispatch counts the attempt, keeps the error and leaves the job queued');

SELECT is(
    (SELECT attempts FROM public.record_clip_dispatch('50000000-0000-0000-0000-000000000022',
        false, NULL, 'timeout', 3)),
    2, 'a second failed dispatch is counted');

SELECT results_eq(
    $$SELECT status, attempts, error_message, refunded_at IS NOT NULL
      FROM public.record_clip_dispatch('50000000-0000-0000-0000-000000000022', false, NULL,
          'timeout', 3)$$,
    $$VALUES ('failed', 3, 'timeout', true)$$,
    'the last allowed failed dispatch fails the job and refunds it');

SELECT results_eq(
    $$SELECT status, attempts FROM public.record_clip_dispatch(
        '50000000-0000-0000-0000-000000000022', false, NULL, 'timeout', 3)$$,
    $$VALUES ('failed', 3)$$,
    'a dispatch recorded for a final job changes nothing');

SELECT throws_ok(
    $$SELECT public.record_clip_dispatch('50000000-0000-0000-0000-0000000000ff', false)$$,
    'PT404', NULL, 'a dispatch of an unknown job is not_found');

SELECT 'clear_authentication' FROM tests.clear_authentication();

SELECT results_eq(
    $$SELECT credits, (SELECT count(*) FROM public.credit_transactions
                       WHERE idempotency_key = 'refund:50000000-0000-0000-0000-000000000022')
      FROM public.credits_ledger WHERE user_key = current_setting('t.owner')$$,
    $$VALUES (5, 1::bigint)$$,
    'dispatch exhaustion refunded the job exactly once');

SELECT is(
    (SELECT l.credits::bigint - (SELECT sum(t.delta) FROM public.credit_transactions AS t
                                 WHERE t.user_key = l.user_key)
     FROM public.credits_ledger AS l WHERE l.user_key = current_setting('t.owner')),
    0::bigint, 'the balance equals the sum of its transactions');

-- privileges -------------------------------------------------------------------------------
SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);

SELECT throws_ok(
    $$SELECT public.record_clip_dispatch('50000000-0000-0000-0000-000000000021', false)$$,
    '42501', NULL, 'a signed-in user cannot record dispatches');

SELECT throws_ok(
    $$SELECT * FROM public.clip_jobs_awaiting_dispatch()$$,
    '42501', NULL, 'a signed-in user cannot read the dispatch queue');

SELECT throws_ok(
    $$SELECT private.refund_clip_job('50000000-0000-0000-0000-000000000021')$$,
    '42501', NULL, 'a signed-in user cannot call the refund helper');

SELECT 'clear_authentication' FROM tests.clear_authentication();

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc AS p
      JOIN pg_namespace AS n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('public', 'private')
        AND p.proname IN ('enqueue_clip_job', 'get_clip_job_status', 'list_clip_jobs',
            'cancel_clip_job', 'apply_clip_event', 'record_clip_dispatch',
            'clip_jobs_awaiting_dispatch', 'refund_clip_job')
        AND has_function_privilege('anon', p.oid, 'EXECUTE')$$,
    'anon can execute none of the clip job functions');

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc AS p
      JOIN pg_namespace AS n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('public', 'private')
        AND p.proname IN ('apply_clip_event', 'record_clip_dispatch',
            'clip_jobs_awaiting_dispatch', 'refund_clip_job')
        AND has_function_privilege('authenticated', p.oid, 'EXECUTE')$$,
    'signed-in users can execute none of the service functions');

SELECT * FROM finish();
ROLLBACK;
