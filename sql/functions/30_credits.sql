-- Credits: reading one's own accounts, the balance spread over buckets, the charge of one credit,
-- and the server-side grants and refunds.
--
-- Every balance change appends one credit_transactions row in the same transaction, keyed by an
-- idempotency key: a replayed adjustment returns the account unchanged, a key reused for a
-- different adjustment is id_conflict. Clients can only read; grants and refunds run as
-- service_role (which owns the tables' privileges), so they need no SECURITY DEFINER.
--
-- An account's balance is its row's credits plus those of its buckets (private.credit_buckets).
-- A charge takes a credit from whichever of these rows no other charge holds (SKIP LOCKED) and
-- waits only when every row with credits is held; a charge that had to wait spreads the account
-- row's credits over the empty buckets, so an account charged by many requests at once is
-- charged in parallel while one charged by one request at a time keeps its whole balance in its
-- row. Grants and refunds add to the account row.

-- The account's balance: its row's credits and its buckets'. (PL/pgSQL, so its plan is kept
-- for the session: a SQL function with a SET clause is planned again at every call.)
CREATE OR REPLACE FUNCTION private.account_credits(p_user_key text)
RETURNS integer
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    RETURN (
        SELECT l.credits + coalesce((
            SELECT sum(b.credits) FROM private.credit_buckets AS b WHERE b.user_key = l.user_key
        ), 0)::integer
        FROM public.credits_ledger AS l
        WHERE l.user_key = p_user_key
    );
END;
$$;

REVOKE ALL ON FUNCTION private.account_credits(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.account_credits(text) TO service_role;

-- The credits held in the buckets of one of the caller's accounts (0 for anyone else's).
CREATE OR REPLACE FUNCTION private.caller_bucket_credits(p_user_key text)
RETURNS integer
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
BEGIN
    RETURN coalesce((
        SELECT sum(b.credits)
        FROM private.credit_buckets AS b
        INNER JOIN public.credits_ledger AS l ON b.user_key = l.user_key
        WHERE b.user_key = p_user_key AND l.user_id = v_user
    ), 0)::integer;
END;
$$;

REVOKE ALL ON FUNCTION private.caller_bucket_credits(text) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.caller_bucket_credits(text) TO authenticated, service_role;

-- Spreads the credits of an account row the caller holds over the account's empty buckets that
-- no charge holds, when there are enough to share; returns what is left in the row.
CREATE OR REPLACE FUNCTION private.spread_credits(p_user_key text, p_row_credits integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_share integer := p_row_credits / 17;
    v_filled integer;
BEGIN
    IF v_share < 2 THEN
        RETURN p_row_credits;
    END IF;
    -- Only the holder of the account row creates its buckets (a conflict check on existing ones
    -- would wait for every charge holding one).
    IF NOT EXISTS (SELECT FROM private.credit_buckets WHERE user_key = p_user_key) THEN
        INSERT INTO private.credit_buckets (user_key, bucket)
        SELECT p_user_key, b.n FROM generate_series(1, 16) AS b (n);
    END IF;
    WITH empty AS (
        SELECT e.bucket FROM private.credit_buckets AS e
        WHERE e.user_key = p_user_key AND e.credits = 0
        FOR NO KEY UPDATE SKIP LOCKED
    )
    UPDATE private.credit_buckets AS b
    SET credits = v_share
    FROM empty
    WHERE b.user_key = p_user_key AND b.bucket = empty.bucket;
    GET DIAGNOSTICS v_filled = ROW_COUNT;
    IF v_filled > 0 THEN
        UPDATE public.credits_ledger
        SET credits = credits - v_share * v_filled
        WHERE user_key = p_user_key;
    END IF;
    RETURN p_row_credits - v_share * v_filled;
END;
$$;

-- Takes one credit from the account: from a bucket or its row that no other charge holds (the
-- buckets first: while charges contend, the row is left to the grants, refunds and foreign key
-- checks that need it), else, waiting for them, from the row or any bucket; insufficient_credits
-- when all are empty. Returns the account's balance after it.
CREATE OR REPLACE FUNCTION private.take_credit(p_user_key text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_bucket smallint;
    v_row_credits integer;
BEGIN
    -- A bucket that a concurrent charge emptied after this statement's snapshot is locked, found
    -- empty and skipped, and stays locked. Taking nothing, the probe is rolled back with its
    -- locks: this charge then waits for the account row holding no bucket, while the holder of
    -- the account row may be waiting for any bucket (a deadlock otherwise). The bucket it takes
    -- is charged in the same subtransaction (locked there and updated by the parent, the row
    -- would need a MultiXact). An account without buckets (one never charged concurrently)
    -- goes to its row without the probe.
    IF EXISTS (SELECT FROM private.credit_buckets WHERE user_key = p_user_key) THEN
        BEGIN
            SELECT bucket INTO STRICT v_bucket
            FROM private.credit_buckets WHERE user_key = p_user_key AND credits >= 1
            ORDER BY bucket LIMIT 1
            FOR NO KEY UPDATE SKIP LOCKED;
            UPDATE private.credit_buckets SET credits = credits - 1
            WHERE user_key = p_user_key AND bucket = v_bucket;
        EXCEPTION WHEN no_data_found THEN
            v_bucket := NULL;
        END;
        IF v_bucket IS NOT NULL THEN
            RETURN private.account_credits(p_user_key);
        END IF;
    END IF;
    SELECT credits INTO v_row_credits
    FROM public.credits_ledger WHERE user_key = p_user_key
    FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT found THEN
        -- Every row with credits is held by another charge: wait for the account row.
        SELECT credits INTO v_row_credits
        FROM public.credits_ledger WHERE user_key = p_user_key
        FOR NO KEY UPDATE;
        v_row_credits := private.spread_credits(p_user_key, v_row_credits);
    END IF;
    IF v_row_credits >= 1 THEN
        UPDATE public.credits_ledger SET credits = credits - 1 WHERE user_key = p_user_key;
        RETURN v_row_credits - 1 + coalesce((
            SELECT sum(b.credits) FROM private.credit_buckets AS b
            WHERE b.user_key = p_user_key
        ), 0)::integer;
    END IF;
    SELECT bucket INTO v_bucket
    FROM private.credit_buckets WHERE user_key = p_user_key AND credits >= 1
    ORDER BY bucket LIMIT 1
    FOR NO KEY UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error(
            'insufficient_credits', 'not enough credits for another clip',
            jsonb_build_object('credits', 0)
        );
    END IF;
    UPDATE private.credit_buckets SET credits = credits - 1
    WHERE user_key = p_user_key AND bucket = v_bucket;
    RETURN private.account_credits(p_user_key);
END;
$$;

-- Both run only inside the credit and clip functions, as their owner or the service role.
REVOKE ALL ON FUNCTION private.spread_credits(text, integer) FROM public, anon, authenticated;
REVOKE ALL ON FUNCTION private.take_credit(text) FROM public, anon, authenticated;

CREATE OR REPLACE FUNCTION public.get_credits(p_user_key text DEFAULT NULL)
RETURNS SETOF public.credits_ledger
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_ledger public.credits_ledger;
BEGIN
    FOR v_ledger IN
        SELECT l.*
        FROM public.credits_ledger AS l
        WHERE l.user_id = v_user AND (p_user_key IS NULL OR l.user_key = p_user_key)
        ORDER BY l.created_at, l.user_key
    LOOP
        v_ledger.credits := v_ledger.credits + private.caller_bucket_credits(v_ledger.user_key);
        RETURN NEXT v_ledger;
    END LOOP;
END;
$$;

REVOKE ALL ON FUNCTION public.get_credits(text) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.get_credits(text) TO authenticated, service_role;

-- One idempotent balance change of an existing account (its row locked, the change made to the
-- row): appends the transaction and returns the account with its balance. A replayed key with
-- the same parameters changes nothing.
CREATE OR REPLACE FUNCTION private.adjust_credits(
    p_user_key text,
    p_kind text,
    p_amount integer,
    p_idempotency_key text,
    p_reason text
)
RETURNS public.credits_ledger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_ledger public.credits_ledger;
    v_previous public.credit_transactions;
    v_recorded bigint;
BEGIN
    IF p_amount IS NULL OR p_amount <= 0 THEN
        PERFORM private.raise_error('invalid_input', 'the amount must be a positive integer');
    END IF;
    IF p_idempotency_key IS NULL OR char_length(p_idempotency_key) NOT BETWEEN 1 AND 200 THEN
        PERFORM private.raise_error(
            'invalid_input', 'the idempotency key must have 1 to 200 characters'
        );
    END IF;

    SELECT * INTO v_ledger
    FROM public.credits_ledger
    WHERE user_key = p_user_key
    FOR NO KEY UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', 'no such credits account');
    END IF;
    v_ledger.credits := private.account_credits(p_user_key);

    SELECT * INTO v_previous
    FROM public.credit_transactions
    WHERE idempotency_key = p_idempotency_key;
    IF found THEN
        IF (v_previous.user_key, v_previous.kind, v_previous.delta, v_previous.reason)
            IS DISTINCT FROM (p_user_key, p_kind, p_amount, p_reason)
        THEN
            PERFORM private.raise_error(
                'id_conflict',
                'the idempotency key was already used for a different adjustment',
                jsonb_build_object('idempotency_key', p_idempotency_key)
            );
        END IF;
        RETURN v_ledger;
    END IF;

    UPDATE public.credits_ledger
    SET credits = credits + p_amount,
        granted_at = CASE WHEN p_kind = 'grant' THEN now() ELSE granted_at END
    WHERE user_key = p_user_key
    RETURNING * INTO v_ledger;
    v_ledger.credits := private.account_credits(p_user_key);

    INSERT INTO public.credit_transactions
        (idempotency_key, user_key, user_id, kind, delta, balance_after, reason)
    VALUES
        (p_idempotency_key, p_user_key, v_ledger.user_id, p_kind, p_amount, v_ledger.credits,
         p_reason)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO v_recorded;
    IF v_recorded IS NULL THEN
        -- Used concurrently for another account: this adjustment is rolled back.
        PERFORM private.raise_error(
            'id_conflict',
            'the idempotency key was already used for a different adjustment',
            jsonb_build_object('idempotency_key', p_idempotency_key)
        );
    END IF;
    RETURN v_ledger;
END;
$$;

REVOKE ALL ON FUNCTION private.adjust_credits(text, text, integer, text, text)
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION private.adjust_credits(text, text, integer, text, text)
TO service_role;

-- Adds credits to an account, opening the account for p_user_id if it does not exist yet.
CREATE OR REPLACE FUNCTION public.grant_credits(
    p_user_key text,
    p_amount integer,
    p_idempotency_key text,
    p_user_id uuid DEFAULT NULL,
    p_reason text DEFAULT NULL
)
RETURNS public.credits_ledger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_owner uuid;
BEGIN
    IF p_user_key IS NULL OR char_length(p_user_key) NOT BETWEEN 1 AND 200 THEN
        PERFORM private.raise_error('invalid_input', 'the user key must have 1 to 200 characters');
    END IF;

    SELECT user_id INTO v_owner FROM public.credits_ledger WHERE user_key = p_user_key;
    IF NOT found THEN
        IF p_user_id IS NULL THEN
            PERFORM private.raise_error(
                'not_found', 'no such credits account; name its user to open it'
            );
        END IF;
        IF NOT EXISTS (SELECT FROM public.app_users WHERE id = p_user_id) THEN
            PERFORM private.raise_error('not_found', 'no such user');
        END IF;
        INSERT INTO public.credits_ledger (user_key, user_id)
        VALUES (p_user_key, p_user_id)
        ON CONFLICT (user_key) DO NOTHING;
        SELECT user_id INTO v_owner FROM public.credits_ledger WHERE user_key = p_user_key;
    END IF;
    IF p_user_id IS NOT NULL AND v_owner <> p_user_id THEN
        PERFORM private.raise_error(
            'invalid_input', 'the credits account belongs to another user'
        );
    END IF;

    RETURN private.adjust_credits(p_user_key, 'grant', p_amount, p_idempotency_key, p_reason);
END;
$$;

REVOKE ALL ON FUNCTION public.grant_credits(text, integer, text, uuid, text)
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.grant_credits(text, integer, text, uuid, text) TO service_role;

-- Gives credits back to an account (e.g. after a failed purchase of a service outside clips).
CREATE OR REPLACE FUNCTION public.refund_credits(
    p_user_key text,
    p_amount integer,
    p_idempotency_key text,
    p_reason text DEFAULT NULL
)
RETURNS public.credits_ledger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF p_user_key IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'the user key is required');
    END IF;
    RETURN private.adjust_credits(p_user_key, 'refund', p_amount, p_idempotency_key, p_reason);
END;
$$;

REVOKE ALL ON FUNCTION public.refund_credits(text, integer, text, text)
FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.refund_credits(text, integer, text, text) TO service_role;
