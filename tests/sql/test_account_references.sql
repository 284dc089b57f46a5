-- Clip jobs and credit transactions reference their credits account by (user_key, user_id):
-- one key per row names an existing account and its owner, and the rows go with the account.
SET LOCAL search_path = extensions, public;
SELECT plan(7);

SELECT 'owner signed up'
FROM set_config('t.owner', tests.create_user('references-owner@example.com')::text, true);
SELECT 'other signed up'
FROM set_config('t.other', tests.create_user('references-other@example.com')::text, true);

SELECT throws_ok(
    $$INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge)
      VALUES (gen_random_uuid(), current_setting('t.other')::uuid,
              current_setting('t.owner'), 'x', 'free')$$,
    '23503', NULL, 'a clip job cannot be charged to an account of another user');

SELECT throws_ok(
    $$INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge)
      VALUES (gen_random_uuid(), gen_random_uuid(), current_setting('t.owner'), 'x', 'free')$$,
    '23503', NULL, 'a clip job cannot belong to a user who does not exist');

SELECT throws_ok(
    $$INSERT INTO public.credit_transactions
          (idempotency_key, user_key, user_id, kind, delta, balance_after)
      VALUES ('grant:other-owner', current_setting('t.owner'),
              current_setting('t.other')::uuid, 'grant', 1, 1)$$,
    '23503', NULL, 'a credit transaction cannot name another user than its account''s owner');

SELECT throws_ok(
    $$INSERT INTO public.credit_transactions
          (idempotency_key, user_key, user_id, kind, delta, balance_after)
      VALUES ('grant:no-account', 'no-such-account', current_setting('t.owner')::uuid,
              'grant', 1, 1)$$,
    '23503', NULL, 'a credit transaction needs an existing credits account');

-- The owner's first clip: a job and its first_clip transaction.
SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);
SELECT 'enqueued' FROM public.enqueue_clip_job(
    '7a000000-0000-0000-0000-000000000001', current_setting('t.owner'), 'A sunrise');
SELECT 'back' FROM tests.clear_authentication();

SELECT is(
    (SELECT count(*) FROM public.credit_transactions
     WHERE clip_job_id = '7a000000-0000-0000-0000-000000000001'),
    1::bigint, 'the enqueued job and its charge are recorded under the owner''s account');

DELETE FROM auth.users WHERE id = current_setting('t.owner')::uuid;

SELECT is(
    (SELECT count(*) FROM public.clip_jobs WHERE user_key = current_setting('t.owner'))
    + (SELECT count(*) FROM public.credit_transactions
       WHERE user_key = current_setting('t.owner')),
    0::bigint, 'deleting a user deletes their clip jobs and credit transactions');

SELECT is(
    (SELECT count(*) FROM pg_constraint
     WHERE contype = 'f'
       AND conrelid IN ('public.clip_jobs'::regclass, 'public.credit_transactions'::regclass)
       AND confrelid IN ('public.credits_ledger'::regclass, 'public.app_users'::regclass)),
    2::bigint, 'each clip job and credit transaction checks one key for its account and user');

SELECT * FROM finish();
ROLLBACK;
