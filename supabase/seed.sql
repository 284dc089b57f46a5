-- Seed data for local development (applied by `supabase db reset` and by `directorstudio seed`
-- / `directorstudio up`). Safe to run any number of times.
--
-- A demo account (demo@directorstudio.local, password "directorstudio") with the sample
-- project of the empty state, so there is something to look at right away. Other users get the
-- sample through public.import_sample_project().

INSERT INTO auth.users (
    instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, confirmed_at,
    raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous
)
VALUES (
    '00000000-0000-0000-0000-000000000000',
    '5eed0000-0000-4000-8000-000000000001',
    'authenticated',
    'authenticated',
    'demo@directorstudio.local',
    extensions.crypt('directorstudio', extensions.gen_salt('bf', 10)),
    now(),
    now(),
    '{"provider": "email", "providers": ["email"]}',
    '{}',
    now(),
    now(),
    false
)
ON CONFLICT (id) DO NOTHING;

INSERT INTO auth.identities (
    provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at
)
VALUES (
    '5eed0000-0000-4000-8000-000000000001',
    '5eed0000-0000-4000-8000-000000000001',
    jsonb_build_object(
        'sub', '5eed0000-0000-4000-8000-000000000001',
        'email', 'demo@directorstudio.local',
        'email_verified', true,
        'phone_verified', false
    ),
    'email',
    now(),
    now(),
    now()
)
ON CONFLICT (provider_id, provider) DO NOTHING;

-- The sample project, imported as the demo user would import it (session settings, because
-- each statement of this file may run in its own transaction).
SELECT
    set_config('role', 'authenticated', false) AS role_setting,
    set_config(
        'request.jwt.claims',
        '{"sub": "5eed0000-0000-4000-8000-000000000001", "role": "authenticated"}',
        false
    ) AS claims_setting;
SELECT public.import_sample_project('5eed0000-0000-4000-8000-00000000a001');
RESET ROLE;
SELECT set_config('request.jwt.claims', '', false) AS claims_setting;
