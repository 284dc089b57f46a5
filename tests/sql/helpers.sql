-- Helpers for the pgTAP tests (installed in the test template only, never migrated).

CREATE SCHEMA IF NOT EXISTS tests;
GRANT USAGE ON SCHEMA tests TO anon, authenticated, service_role;

-- A Supabase user (the sign-up trigger creates its app_users row and credits account).
CREATE OR REPLACE FUNCTION tests.create_user(p_email text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_id uuid := gen_random_uuid();
BEGIN
    INSERT INTO auth.users (id, email, aud, role, is_anonymous)
    VALUES (v_id, p_email, 'authenticated', 'authenticated', p_email IS NULL);
    RETURN v_id;
END;
$$;

-- Act as a signed-in user for the rest of the transaction.
CREATE OR REPLACE FUNCTION tests.authenticate_as(p_user uuid)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT set_config('request.jwt.claims', json_build_object(
        'sub', p_user, 'role', 'authenticated', 'aud', 'authenticated')::text, true);
    SELECT set_config('role', 'authenticated', true);
$$;

CREATE OR REPLACE FUNCTION tests.authenticate_as_anon()
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT set_config('request.jwt.claims', '{"role": "anon"}', true);
    SELECT set_config('role', 'anon', true);
$$;

CREATE OR REPLACE FUNCTION tests.authenticate_as_service_role()
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT set_config('request.jwt.claims', '{"role": "service_role"}', true);
    SELECT set_config('role', 'service_role', true);
$$;

-- Back to the test's own (superuser) role.
CREATE OR REPLACE FUNCTION tests.clear_authentication()
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT set_config('request.jwt.claims', '', true);
    SELECT set_config('role', 'none', true);
$$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tests TO anon, authenticated, service_role;

-- The error a statement raises, as {"sqlstate", "code" (the HINT), "detail" (JSON DETAIL)}, or
-- NULL when it succeeds; tells apart codes that share a SQLSTATE (e.g. the PT409 family).
CREATE OR REPLACE FUNCTION tests.error_of(p_sql text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_state text;
    v_hint text;
    v_detail text;
BEGIN
    EXECUTE p_sql;
    RETURN NULL;
EXCEPTION
    WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS
            v_state = RETURNED_SQLSTATE, v_hint = PG_EXCEPTION_HINT, v_detail = PG_EXCEPTION_DETAIL;
        RETURN jsonb_build_object(
            'sqlstate', v_state,
            'code', nullif(v_hint, ''),
            'detail', CASE WHEN v_detail LIKE '{%' THEN v_detail::jsonb END
        );
END;
$$;

GRANT EXECUTE ON FUNCTION tests.error_of(text) TO anon, authenticated, service_role;
