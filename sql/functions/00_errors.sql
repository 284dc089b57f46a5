-- Error helpers shared by every contract function.
--
-- Each documented error code maps to one SQLSTATE that PostgREST turns into an HTTP status.
-- The code itself travels in the error's HINT, structured context (e.g. the current row of a
-- version conflict) as JSON in its DETAIL.

CREATE OR REPLACE FUNCTION private.error_sqlstate(p_code text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT CASE p_code
        WHEN 'invalid_input' THEN '22023'
        WHEN 'not_authenticated' THEN 'PT401'
        WHEN 'forbidden' THEN '42501'
        WHEN 'not_found' THEN 'PT404'
        WHEN 'insufficient_credits' THEN 'PT402'
        WHEN 'version_conflict' THEN 'PT409'
        WHEN 'id_conflict' THEN 'PT409'
        WHEN 'invalid_transition' THEN 'PT409'
        WHEN 'stale_order' THEN 'PT409'
        ELSE 'P0001'
    END
$$;

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

REVOKE ALL ON FUNCTION private.error_sqlstate(text) FROM public;
REVOKE ALL ON FUNCTION private.raise_error(text, text, jsonb) FROM public;
REVOKE ALL ON FUNCTION private.require_user() FROM public;
GRANT EXECUTE ON FUNCTION private.error_sqlstate(text) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.raise_error(text, text, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.require_user() TO authenticated, service_role;
