-- Credits: the owner reads their accounts; only the service role grants and refunds, each
-- adjustment applies once per idempotency key, and no client path raises a balance.
SET LOCAL search_path = extensions, public;
SELECT plan(31);

-- Setup statements print fixed labels, never generated ids: pytest-pgtap's TAP parser reads a
-- line such as '1a42...' as a plan.
SELECT 'owner signed up'
FROM set_config('t.owner', tests.create_user('credits-owner@example.com')::text, true);
SELECT 'other signed up'
FROM set_config('t.other', tests.create_user('credits-other@example.com')::text, true);

-- get_credits ------------------------------------------------------------------------------
SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);

SELECT results_eq(
    $$SELECT user_key, credits, first_clip_consumed FROM public.get_credits()$$,
    $$VALUES (current_setting('t.owner'), 0, false)$$,
    'get_credits returns the caller''s account keyed by their user id');

SELECT is_empty(
    $$SELECT * FROM public.get_credits(current_setting('t.other'))$$,
    'get_credits never returns another user''s account');

SELECT 'authenticate_as_anon' FROM tests.authenticate_as_anon();

SELECT throws_ok(
    $$SELECT * FROM public.get_credits()$$,
    '42501', NULL, 'anon cannot read credits');

-- grant_credits ----------------------------------------------------------------------------
SELECT 'authenticate_as_service_role' FROM tests.authenticate_as_service_role();

SELECT is(
    (SELECT credits FROM public.grant_credits(
        current_setting('t.owner'), 5, 'grant:owner:1', NULL, 'welcome pack')),
    5, 'grant_credits adds the amount to the account');

SELECT is(
    (SELECT credits FROM public.grant_credits(
        current_setting('t.owner'), 5, 'grant:owner:1', NULL, 'welcome pack')),
    5, 'a replayed grant returns the account unchanged');

SELECT is(
    tests.error_of($$SELECT public.grant_credits(
        current_setting('t.owner'), 7, 'grant:owner:1', NULL,
        'welcome pack')$$) ->> 'code',
    'id_conflict', 'reusing a grant''s key for a different amount is an id conflict');

SELECT is(
    tests.error_of($$SELECT public.refund_credits(
        current_setting('t.owner'), 5, 'grant:owner:1', 'welcome pack')$$) ->> 'code',
    'id_conflict', 'reusing a grant''s key for a refund is an id conflict');

SELECT throws_ok(
    $$SELECT public.grant_credits(current_setting('t.owner'), 0, 'grant:owner:zero')$$,
    '22023', 'the amount must be a positive integer', 'a grant of zero credits is invalid');

SELECT throws_ok(
    $$SELECT public.grant_credits(current_setting('t.owner'), -3, 'grant:owner:negative')$$,
    '22023', 'the amount must be a positive integer', 'a negative grant is invalid');

SELECT throws_ok(
    $$SELECT public.grant_credits(current_setting('t.owner'), 1, '')$$,
    '22023', NULL, 'a grant needs an idempotency key');

SELECT throws_ok(
    $$SELECT public.grant_credits('nobody', 1, 'grant:nobody:1')$$,
    'PT404', NULL, 'granting to an unknown account without naming its user is not_found');

SELECT throws_ok(
    $$SELECT public.grant_credits('nobody', 1, 'grant:nobody:1',
        '00000000-0000-0000-0000-00000000dead')$$,
    'PT404', 'no such user', 'an account cannot be opened for an unknown user');

SELECT results_eq(
    $$SELECT user_id, credits, first_clip_consumed FROM public.grant_credits(
        'studio:other', 3, 'grant:studio:1', current_setting('t.other')::uuid)$$,
    $$VALUES (current_setting('t.other')::uuid, 3, false)$$,
    'grant_credits opens the account for the named user when it does not exist yet');

SELECT throws_ok(
    $$SELECT public.grant_credits('studio:other', 1, 'grant:studio:2',
        current_setting('t.owner')::uuid)$$,
    '22023', 'the credits account belongs to another user',
    'a grant naming a different user than the account''s owner is invalid');

-- refund_credits ---------------------------------------------------------------------------
SELECT is(
    (SELECT credits FROM public.refund_credits(current_setting('t.owner'), 2, 'refund:owner:1')),
    7, 'refund_credits adds the refunded amount');

SELECT is(
    (SELECT credits FROM public.refund_credits(current_setting('t.owner'), 2, 'refund:owner:1')),
    7, 'a replayed refund returns the account unchanged');

SELECT throws_ok(
    $$SELECT public.refund_credits(current_setting('t.owner'), -1, 'refund:owner:2')$$,
    '22023', 'the amount must be a positive integer', 'a negative refund is invalid');

SELECT throws_ok(
    $$SELECT public.refund_credits('nobody', 1, 'refund:nobody:1')$$,
    'PT404', NULL, 'refunding an unknown account is not_found');

SELECT 'clear_authentication' FROM tests.clear_authentication();

SELECT results_eq(
    $$SELECT idempotency_key, kind, delta, balance_after, reason FROM public.credit_transactions
      WHERE user_key = current_setting('t.owner') ORDER BY id$$,
    $$VALUES ('grant:owner:1', 'grant', 5, 5, 'welcome pack'::text),
             ('refund:owner:1', 'refund', 2, 7, NULL)$$,
    'each applied adjustment appended exactly one transaction with the balance after it');

SELECT is(
    (SELECT l.credits::bigint - (SELECT sum(t.delta) FROM public.credit_transactions AS t
                                 WHERE t.user_key = l.user_key)
     FROM public.credits_ledger AS l WHERE l.user_key = current_setting('t.owner')),
    0::bigint, 'the balance equals the sum of its transactions');

-- No client path raises a balance -----------------------------------------------------------
SELECT 'authenticate_as' FROM tests.authenticate_as(current_setting('t.owner')::uuid);

SELECT throws_ok(
    $$SELECT public.grant_credits(current_setting('t.owner'), 100, 'grant:self:1')$$,
    '42501', NULL, 'a signed-in user cannot grant themselves credits');

SELECT throws_ok(
    $$SELECT public.refund_credits(current_setting('t.owner'), 100, 'refund:self:1')$$,
    '42501', NULL, 'a signed-in user cannot refund themselves credits');

SELECT throws_ok(
    $$SELECT private.adjust_credits(current_setting('t.owner'), 'grant', 100, 'self:1', NULL)$$,
    '42501', NULL, 'a signed-in user cannot call the private adjustment helper');

SELECT throws_ok(
    $$UPDATE public.credits_ledger SET credits = 1000
      WHERE user_key = current_setting('t.owner')$$,
    '42501', NULL, 'a signed-in user cannot update their balance directly');

SELECT throws_ok(
    $$INSERT INTO public.credits_ledger (user_key, user_id, credits)
      VALUES ('mine', current_setting('t.owner')::uuid, 1000)$$,
    '42501', NULL, 'a signed-in user cannot open an account with a balance');

SELECT throws_ok(
    $$INSERT INTO public.credit_transactions
          (idempotency_key, user_key, user_id, kind, delta, balance_after)
      VALUES ('forged', current_setting('t.owner'), current_setting('t.owner')::uuid,
              'grant', 1000, 1000)$$,
    '42501', NULL, 'a signed-in user cannot append a credit transaction');

SELECT throws_ok(
    $$DELETE FROM public.credit_transactions WHERE user_key = current_setting('t.owner')$$,
    '42501', NULL, 'a signed-in user cannot delete credit transactions');

SELECT is(
    (SELECT credits FROM public.get_credits(current_setting('t.owner'))),
    7, 'after every attempt the balance is unchanged');

SELECT 'authenticate_as_anon' FROM tests.authenticate_as_anon();

SELECT throws_ok(
    $$SELECT public.grant_credits(current_setting('t.owner'), 1, 'grant:anon:1')$$,
    '42501', NULL, 'anon cannot grant credits');

SELECT 'clear_authentication' FROM tests.clear_authentication();

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc AS p
      JOIN pg_namespace AS n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('public', 'private')
        AND p.proname IN ('get_credits', 'grant_credits', 'refund_credits', 'adjust_credits')
        AND has_function_privilege('anon', p.oid, 'EXECUTE')$$,
    'anon can execute none of the credits functions');

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc AS p
      JOIN pg_namespace AS n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('public', 'private')
        AND p.proname IN ('grant_credits', 'refund_credits', 'adjust_credits')
        AND has_function_privilege('authenticated', p.oid, 'EXECUTE')$$,
    'signed-in users can execute no credit-raising function');

SELECT * FROM finish();
ROLLBACK;
