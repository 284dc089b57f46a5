-- Raising documented errors, and the signed-in user every contract function starts from.
--
-- raise_error raises a documented code (see sql/functions/00_errors.sql, generated from the
-- error table) with its SQLSTATE, the code in the HINT and structured context (e.g. the current
-- row of a version conflict) as JSON in the DETAIL.

CREATE OR REPLACE FUNCTION private.raise_error(
    p_code text, p_message text, p_detail jsonb DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF p_detail IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = private.error_sqlstate(p_code), MESSAGE = p_message, HINT = p_code;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = private.error_sqlstate(p_code),
        MESSAGE = p_message,
        HINT = p_code,
        DETAIL = p_detail::text;
END;
$$;

-- The signed-in user's id, or a not_authenticated error.
CREATE OR REPLACE FUNCTION private.require_user()
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_user uuid := auth.uid();
BEGIN
    IF v_user IS NULL THEN
        PERFORM private.raise_error('not_authenticated', 'sign in first');
    END IF;
    RETURN v_user;
END;
$$;

REVOKE ALL ON FUNCTION private.raise_error(text, text, jsonb) FROM public;
REVOKE ALL ON FUNCTION private.require_user() FROM public;
GRANT EXECUTE ON FUNCTION private.raise_error(text, text, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.require_user() TO authenticated, service_role;
