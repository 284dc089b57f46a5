-- Credits: reading one's own accounts, and the server-side grants and refunds.
--
-- Every balance change appends one credit_transactions row in the same transaction, keyed by an
-- idempotency key: a replayed adjustment returns the account unchanged, a key reused for a
-- different adjustment is id_conflict. Clients can only read; grants and refunds run as
-- service_role (which owns the tables' privileges), so they need no SECURITY DEFINER.

CREATE OR REPLACE FUNCTION public.get_credits(p_user_key text DEFAULT NULL)
RETURNS SETOF public.credits_ledger
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
BEGIN
    RETURN QUERY
    SELECT l.*
    FROM public.credits_ledger AS l
    WHERE l.user_id = v_user AND (p_user_key IS NULL OR l.user_key = p_user_key)
    ORDER BY l.created_at, l.user_key;
END;
$$;

REVOKE ALL ON FUNCTION public.get_credits(text) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.get_credits(text) TO authenticated, service_role;

-- One idempotent balance change of an existing, locked account: appends the transaction and
-- returns the account. A replayed key with the same parameters changes nothing.
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
    FOR UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', 'no such credits account');
    END IF;

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
