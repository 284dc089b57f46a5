-- Row versions, derived project totals, the clip job state machine, the append-only credit
-- transactions and the sign-up trigger. Runs in one transaction that is rolled back.
SET LOCAL search_path = extensions, public;
SELECT plan(17);

SELECT set_config('t.owner', tests.create_user('owner@example.com')::text, true);

SELECT is(
    (SELECT email FROM public.app_users WHERE id = current_setting('t.owner')::uuid),
    'owner@example.com', 'signing up creates the app_users row');
SELECT is(
    (SELECT credits FROM public.credits_ledger WHERE user_key = current_setting('t.owner')),
    0, 'signing up opens a credits account keyed by the user id, with no credits');
SELECT ok(
    (SELECT NOT first_clip_consumed FROM public.credits_ledger
     WHERE user_key = current_setting('t.owner')),
    'a new credits account still has its free first clip');

INSERT INTO public.project_overview (project_id, user_id, title, scene_count)
VALUES ('10000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid, 'Pilot', 99);

SELECT is(
    (SELECT scene_count FROM public.project_overview
     WHERE project_id = '10000000-0000-0000-0000-000000000001'),
    0::bigint, 'scene_count cannot be typed in: it is derived from the scenes');

INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, duration)
VALUES
    ('20000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid,
     '10000000-0000-0000-0000-000000000001', 0, 'Opening', 4.5),
    ('20000000-0000-0000-0000-000000000002', current_setting('t.owner')::uuid,
     '10000000-0000-0000-0000-000000000001', 1, 'Chase', 3);

SELECT results_eq(
    $$SELECT scene_count, total_duration FROM public.project_overview
      WHERE project_id = '10000000-0000-0000-0000-000000000001'$$,
    $$VALUES (2::bigint, 7.5::double precision)$$,
    'inserting scenes maintains the project''s scene_count and total_duration');

UPDATE public.scene_drafts SET archived = true
WHERE id = '20000000-0000-0000-0000-000000000002';

SELECT results_eq(
    $$SELECT scene_count, total_duration FROM public.project_overview
      WHERE project_id = '10000000-0000-0000-0000-000000000001'$$,
    $$VALUES (1::bigint, 4.5::double precision)$$,
    'archiving a scene removes it from the project totals');

SELECT is(
    (SELECT version FROM public.scene_drafts WHERE id = '20000000-0000-0000-0000-000000000002'),
    2::bigint, 'a change bumps the row version');

-- The archive above already touched the project in this transaction; an edit that leaves its
-- totals as they are does not write the project row again.
SELECT set_config('t.project_row', (SELECT ctid::text FROM public.project_overview
    WHERE project_id = '10000000-0000-0000-0000-000000000001'), true);
UPDATE public.scene_drafts SET prompt_text = 'Opening, revised'
WHERE id = '20000000-0000-0000-0000-000000000001';
SELECT is(
    (SELECT ctid::text FROM public.project_overview
     WHERE project_id = '10000000-0000-0000-0000-000000000001'),
    current_setting('t.project_row'),
    'a scene edit that leaves the totals unchanged does not rewrite a project this transaction already touched');
UPDATE public.scene_drafts SET duration = 5
WHERE id = '20000000-0000-0000-0000-000000000001';
SELECT results_eq(
    $$SELECT scene_count, total_duration FROM public.project_overview
      WHERE project_id = '10000000-0000-0000-0000-000000000001'$$,
    $$VALUES (1::bigint, 5::double precision)$$,
    'a scene edit that changes the totals still refreshes them in the same transaction');
UPDATE public.scene_drafts SET duration = 4.5
WHERE id = '20000000-0000-0000-0000-000000000001';


SELECT is(
    (SELECT field_versions FROM public.scene_drafts
     WHERE id = '20000000-0000-0000-0000-000000000002'),
    '{"archived": 2}'::jsonb, 'field_versions records which version changed which field');

UPDATE public.scene_drafts SET archived = true
WHERE id = '20000000-0000-0000-0000-000000000002';

SELECT is(
    (SELECT version FROM public.scene_drafts WHERE id = '20000000-0000-0000-0000-000000000002'),
    2::bigint, 'a write that changes nothing keeps the version');

SELECT throws_ok(
    $$UPDATE public.scene_drafts SET user_id = tests.create_user()
      WHERE id = '20000000-0000-0000-0000-000000000001'$$,
    '42501', NULL, 'the owner of a row cannot change');

INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge)
VALUES ('30000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid,
        current_setting('t.owner'), 'A sunrise', 'free');

SELECT throws_ok(
    $$UPDATE public.clip_jobs SET status = 'completed', download_url = 'http://x/y.mp4'
      WHERE id = '30000000-0000-0000-0000-000000000001'$$,
    'PT409', NULL, 'a queued job cannot jump to completed');

UPDATE public.clip_jobs SET status = 'processing'
WHERE id = '30000000-0000-0000-0000-000000000001';

SELECT throws_ok(
    $$UPDATE public.clip_jobs SET status = 'completed'
      WHERE id = '30000000-0000-0000-0000-000000000001'$$,
    '23514', NULL, 'a completed job must have a download_url');

UPDATE public.clip_jobs SET status = 'completed', download_url = 'http://x/y.mp4'
WHERE id = '30000000-0000-0000-0000-000000000001';

SELECT throws_ok(
    $$UPDATE public.clip_jobs SET status = 'failed'
      WHERE id = '30000000-0000-0000-0000-000000000001'$$,
    'PT409', NULL, 'completed is final');

INSERT INTO public.credit_transactions
    (idempotency_key, user_key, user_id, kind, delta, balance_after)
VALUES ('grant:test', current_setting('t.owner'), current_setting('t.owner')::uuid,
        'grant', 5, 5);

SELECT throws_ok(
    $$UPDATE public.credit_transactions SET delta = 500 WHERE idempotency_key = 'grant:test'$$,
    '42501', NULL, 'credit transactions cannot be updated');

SELECT throws_ok(
    $$DELETE FROM public.credit_transactions WHERE idempotency_key = 'grant:test'$$,
    '42501', NULL, 'credit transactions cannot be deleted');

SELECT * FROM finish();
ROLLBACK;
