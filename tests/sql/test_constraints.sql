-- Table constraints hold for every writer, the service role included.
SET LOCAL search_path = extensions, public;
SELECT plan(19);

SELECT 'users' FROM set_config('t.owner', tests.create_user('rules@example.com')::text, true);
SELECT 'users' FROM set_config('t.other', tests.create_user('rules-b@example.com')::text, true);
INSERT INTO public.project_overview (project_id, user_id, title)
VALUES ('60000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid, 'Rules');

SELECT throws_ok(
    $$UPDATE public.credits_ledger SET credits = -1 WHERE user_key = current_setting('t.owner')$$,
    '23514', NULL, 'a balance can never go negative');
SELECT throws_ok(
    $$INSERT INTO public.credits_ledger (user_key, user_id)
      VALUES (current_setting('t.owner'), current_setting('t.other')::uuid)$$,
    '23505', NULL, 'a user_key names exactly one credits account');
SELECT throws_ok(
    $$INSERT INTO public.project_overview (project_id, user_id, title)
      VALUES (gen_random_uuid(), current_setting('t.owner')::uuid, '')$$,
    '23514', NULL, 'a project title cannot be empty');
SELECT throws_ok(
    $$INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, duration)
      VALUES (gen_random_uuid(), current_setting('t.owner')::uuid,
              '60000000-0000-0000-0000-000000000001', 0, 'x', 0)$$,
    '23514', NULL, 'a scene lasts more than zero seconds');
SELECT throws_ok(
    $$INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, duration)
      VALUES (gen_random_uuid(), current_setting('t.owner')::uuid,
              '60000000-0000-0000-0000-000000000001', -1, 'x', 1)$$,
    '23514', NULL, 'an order index is never negative');
SELECT throws_ok(
    $$INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, duration)
      VALUES (gen_random_uuid(), current_setting('t.other')::uuid,
              '60000000-0000-0000-0000-000000000001', 0, 'x', 1)$$,
    '23503', NULL, 'a scene can only belong to a project of its own owner');
SELECT throws_ok(
    $$INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge, status)
      VALUES (gen_random_uuid(), current_setting('t.owner')::uuid,
              current_setting('t.owner'), 'x', 'free', 'done')$$,
    '23514', NULL, 'a clip job status is one of the five states');
SELECT throws_ok(
    $$INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge)
      VALUES (gen_random_uuid(), current_setting('t.owner')::uuid,
              current_setting('t.owner'), '', 'free')$$,
    '23514', NULL, 'a clip job needs a prompt');
SELECT throws_ok(
    $$INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge)
      VALUES (gen_random_uuid(), current_setting('t.owner')::uuid, 'no-such-key', 'x', 'free')$$,
    '23503', NULL, 'a clip job is charged to an existing credits account');
SELECT throws_ok(
    $$INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge, project_id)
      VALUES (gen_random_uuid(), current_setting('t.other')::uuid,
              current_setting('t.other'), 'x', 'free', '60000000-0000-0000-0000-000000000001')$$,
    '23503', NULL, 'a clip job can only render a project of its own owner');
SELECT throws_ok(
    $$INSERT INTO public.continuity_logs (confidence, issues, passed, timestamp, user_id)
      VALUES (0.5, '[]', true, now(), current_setting('t.owner')::uuid)$$,
    '23514', NULL, 'a continuity log names a scene number or a scene draft');
SELECT throws_ok(
    $$INSERT INTO public.continuity_logs (scene_id, confidence, issues, passed, timestamp, user_id)
      VALUES (1, 1.5, '[]', true, now(), current_setting('t.owner')::uuid)$$,
    '23514', NULL, 'a confidence lies between 0 and 1');
SELECT throws_ok(
    $$INSERT INTO public.continuity_telemetry (element, attempts, successes, user_id)
      VALUES ('e', 1, 2, current_setting('t.owner')::uuid)$$,
    '23514', NULL, 'telemetry never counts more successes than attempts');
SELECT throws_ok(
    $$INSERT INTO public.continuity_telemetry (element, day, user_id)
      VALUES ('same', '2026-01-01', current_setting('t.owner')::uuid),
             ('same', '2026-01-01', current_setting('t.owner')::uuid)$$,
    '23505', NULL, 'one telemetry row per user, element and day');

SELECT throws_ok(
    $$INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, duration)
      VALUES (gen_random_uuid(), gen_random_uuid(),
              '60000000-0000-0000-0000-000000000001', 0, 'x', 1)$$,
    '23503', NULL, 'a scene of a user who does not exist is refused by its project reference');

-- Deleting a user deletes their scenes through their projects.
SELECT 'users' FROM set_config('t.leaving', tests.create_user('leaving@example.com')::text, true);
INSERT INTO public.project_overview (project_id, user_id, title)
VALUES ('60000000-0000-0000-0000-000000000002', current_setting('t.leaving')::uuid, 'Leaving');
INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, duration)
VALUES ('60000000-0000-0000-0000-0000000000a1', current_setting('t.leaving')::uuid,
        '60000000-0000-0000-0000-000000000002', 0, 'x', 1);
SELECT is(
    (SELECT count(*)::integer FROM public.scene_drafts
     WHERE user_id = current_setting('t.leaving')::uuid),
    1, 'the leaving user has a scene');
DELETE FROM auth.users WHERE id = current_setting('t.leaving')::uuid;
SELECT is(
    (SELECT count(*)::integer FROM public.scene_drafts
     WHERE id = '60000000-0000-0000-0000-0000000000a1'),
    0, 'deleting a user deletes their scenes');

UPDATE auth.users SET email = 'renamed@example.com' WHERE id = current_setting('t.owner')::uuid;
SELECT is(
    (SELECT email FROM public.app_users WHERE id = current_setting('t.owner')::uuid),
    'renamed@example.com', 'a changed sign-in email reaches app_users');

INSERT INTO public.continuity_scene_states
    (location, characters, props, prompt, tone, timestamp, user_id, updated_at)
VALUES ('L', '[]', '[]', 'P', 'T', now(), current_setting('t.owner')::uuid, '2000-01-01');
UPDATE public.continuity_scene_states SET tone = 'dark'
WHERE user_id = current_setting('t.owner')::uuid;
SELECT ok(
    (SELECT updated_at > '2000-01-01' FROM public.continuity_scene_states
     WHERE user_id = current_setting('t.owner')::uuid),
    'an update stamps updated_at on tables that are not synced');

SELECT * FROM finish();
ROLLBACK;
