-- Platform bootstrap for plain PostgreSQL.
--
-- Creates minimal, faithful stand-ins for the objects a hosted Supabase project already has,
-- so that supabase/migrations/ run unchanged on a plain PostgreSQL server. This file is never a
-- migration and is never applied to hosted Supabase. Every statement is safe to run twice.

-- Roles -------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
        CREATE ROLE anon NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
        CREATE ROLE authenticated NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
        CREATE ROLE authenticator LOGIN NOINHERIT;
    END IF;
END
$$;

GRANT anon TO authenticator;
GRANT authenticated TO authenticator;
GRANT service_role TO authenticator;

-- Schemas -----------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE SCHEMA IF NOT EXISTS realtime;

GRANT USAGE ON SCHEMA public, extensions TO anon, authenticated, service_role;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
GRANT USAGE ON SCHEMA realtime TO anon, authenticated, service_role;

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;

-- Hosted Supabase's default privileges: whatever the migration role creates in public is
-- granted to the three API roles unless a migration revokes it.
DO $$
BEGIN
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
        'GRANT ALL ON TABLES TO anon, authenticated, service_role', current_user);
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
        'GRANT ALL ON SEQUENCES TO anon, authenticated, service_role', current_user);
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
        'GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role', current_user);
END
$$;

-- auth --------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS auth.users (
    instance_id uuid,
    id uuid PRIMARY KEY,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    phone text UNIQUE,
    confirmed_at timestamptz,
    banned_until timestamptz,
    deleted_at timestamptz,
    is_anonymous boolean NOT NULL DEFAULT false
);

CREATE UNIQUE INDEX IF NOT EXISTS users_email_partial_key
ON auth.users (email) WHERE (is_anonymous = false);

-- As hosted Supabase defines it: no SET clause, so the planner inlines it (a SQL function with
-- one is planned again at every call); it names only pg_catalog functions.
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

CREATE OR REPLACE FUNCTION auth.email() RETURNS text
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT coalesce(
        nullif(current_setting('request.jwt.claim.email', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt()
TO anon, authenticated, service_role;

-- Sessions, rotating refresh tokens and identities, as GoTrue keeps them (the local auth server
-- writes these; hosted Supabase has the same tables).
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_type AS t
        JOIN pg_namespace AS n ON n.oid = t.typnamespace
        WHERE n.nspname = 'auth' AND t.typname = 'aal_level'
    ) THEN
        CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS auth.sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at timestamptz,
    updated_at timestamptz,
    factor_id uuid,
    aal auth.aal_level,
    not_after timestamptz,
    refreshed_at timestamp without time zone,
    user_agent text,
    ip inet,
    tag text
);

CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON auth.sessions (user_id);

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
    instance_id uuid,
    id bigserial PRIMARY KEY,
    token varchar(255) UNIQUE,
    user_id varchar(255),
    revoked boolean,
    created_at timestamptz,
    updated_at timestamptz,
    parent varchar(255),
    session_id uuid REFERENCES auth.sessions (id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS refresh_tokens_parent_idx ON auth.refresh_tokens (parent);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id_revoked_idx
ON auth.refresh_tokens (session_id, revoked);

CREATE TABLE IF NOT EXISTS auth.identities (
    provider_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    identity_data jsonb NOT NULL,
    provider text NOT NULL,  -- noqa: RF04
    last_sign_in_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
);

CREATE INDEX IF NOT EXISTS identities_user_id_idx ON auth.identities (user_id);

-- realtime ----------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS realtime.messages (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    topic text NOT NULL,
    extension text NOT NULL,
    payload jsonb,
    event text,
    private boolean DEFAULT false,
    updated_at timestamp without time zone NOT NULL DEFAULT now(),
    inserted_at timestamp without time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (id, inserted_at)
);

ALTER TABLE realtime.messages ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON realtime.messages TO anon, authenticated;
GRANT ALL ON realtime.messages TO service_role;

CREATE OR REPLACE FUNCTION realtime.topic() RETURNS text
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT nullif(current_setting('realtime.topic', true), '')::text
$$;

GRANT EXECUTE ON FUNCTION realtime.topic() TO anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION realtime.send(
    payload jsonb, event text, topic text, private boolean DEFAULT true
) RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    BEGIN
        INSERT INTO realtime.messages (payload, event, topic, private, extension)
        VALUES (payload, event, topic, private, 'broadcast');
    EXCEPTION WHEN OTHERS THEN
        -- Hosted Supabase never fails the caller's transaction because of a broadcast.
        RAISE WARNING 'ErrorSendingBroadcastMessage: %', SQLERRM;
    END;
END;
$$;

-- Local delivery: the local realtime server listens on this channel. Hosted Supabase reads the
-- table through logical replication instead, so no writer there sends a NOTIFY. A NOTIFY
-- serialises the commits of every notifying transaction of the cluster (PostgreSQL takes one
-- lock from before the commit record until the end of the commit), so writers notify only once
-- a local listener has announced itself here, before it reports ready; a database no local
-- server listens to commits like the hosted one.
CREATE TABLE IF NOT EXISTS realtime.local_listeners (
    channel text PRIMARY KEY,
    since timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON realtime.local_listeners TO anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION realtime.notify_local_server() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF EXISTS (SELECT FROM realtime.local_listeners WHERE channel = 'realtime_messages') THEN
        PERFORM pg_notify(
            'realtime_messages',
            json_build_object(
                'id', NEW.id, 'inserted_at', NEW.inserted_at, 'topic', NEW.topic
            )::text
        );
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER messages_notify_local_server
AFTER INSERT ON realtime.messages
FOR EACH ROW EXECUTE FUNCTION realtime.notify_local_server();

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
        CREATE PUBLICATION supabase_realtime;
    END IF;
END
$$;
