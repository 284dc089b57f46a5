-- Projects: list, upsert, rename, duplicate and archive the caller's project overviews.
--
-- SECURITY INVOKER: the owner may write project_overview and scene_drafts under RLS, so these
-- functions never see or touch another user's rows. The triggers of 10_sync_stamp.sql and
-- 13_project_totals.sql maintain version, field_versions, sync_txid, last_updated, scene_count
-- and total_duration; a call that would change nothing writes nothing (its version stays).
--
-- Lifecycle decisions:
-- - An archived project is only hidden from the default list: it can still be listed (with
--   p_include_archived), renamed, duplicated, and its scenes listed and edited.
-- - A deleted project (deleted_at set, a tombstone kept for sync) is gone: every function reports
--   it as not_found, and its id cannot be reused.
-- - Every write locks the project row first (SELECT ... FOR UPDATE), the same order the scene
--   functions use, so concurrent writers of one project queue up instead of deadlocking.

-- A title is 1..200 characters and not only white space; NULL passes (means "no title given").
CREATE OR REPLACE FUNCTION private.check_project_title(p_title text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF p_title IS NOT NULL
        AND (char_length(p_title) NOT BETWEEN 1 AND 200 OR btrim(p_title) = '')
    THEN
        PERFORM private.raise_error(
            'invalid_input', 'a project title must have 1 to 200 characters',
            jsonb_build_object('field', 'title')
        );
    END IF;
END;
$$;

-- The caller's live (not deleted) project, locked for the rest of the transaction, or not_found.
CREATE OR REPLACE FUNCTION private.lock_own_project(p_project_id uuid)
RETURNS public.project_overview
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_project public.project_overview;
BEGIN
    IF p_project_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'a project id is required');
    END IF;
    SELECT p.* INTO v_project
    FROM public.project_overview AS p
    WHERE p.project_id = p_project_id AND p.user_id = v_user AND p.deleted_at IS NULL
    FOR UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', format('no project %s', p_project_id));
    END IF;
    RETURN v_project;
END;
$$;

-- Sets the title of a locked project. With a base version, a title changed on the server after
-- that version to something else is a version_conflict carrying the current row; setting the
-- title it already has writes nothing.
CREATE OR REPLACE FUNCTION private.set_project_title(
    p_project public.project_overview, p_title text, p_base_version bigint
)
RETURNS public.project_overview
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_project public.project_overview;
BEGIN
    IF p_base_version IS NOT NULL AND p_base_version > p_project.version THEN
        PERFORM private.raise_error(
            'invalid_input',
            format('base version %s is newer than the project (version %s)',
                   p_base_version, p_project.version),
            jsonb_build_object('field', 'base_version')
        );
    END IF;
    IF p_title IS NULL OR p_title = p_project.title THEN
        RETURN p_project;
    END IF;
    IF p_base_version IS NOT NULL
        AND coalesce((p_project.field_versions ->> 'title')::bigint, 0) > p_base_version
    THEN
        PERFORM private.raise_error(
            'version_conflict',
            format('the title of project %s changed since version %s',
                   p_project.project_id, p_base_version),
            jsonb_build_object('current', to_jsonb(p_project), 'fields', jsonb_build_array('title'))
        );
    END IF;
    UPDATE public.project_overview AS p
    SET title = p_title
    WHERE p.project_id = p_project.project_id
    RETURNING p.* INTO v_project;
    RETURN v_project;
END;
$$;

-- The id of the copy of scene p_source_scene_id in duplicated project p_new_project_id: the same
-- pair always gives the same id, so replaying a duplication creates nothing new.
CREATE OR REPLACE FUNCTION private.duplicated_scene_id(
    p_new_project_id uuid, p_source_scene_id uuid
)
RETURNS uuid
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT md5('scene-copy:' || p_new_project_id::text || ':' || p_source_scene_id::text)::uuid
$$;

REVOKE ALL ON FUNCTION private.check_project_title(text) FROM public, anon;
REVOKE ALL ON FUNCTION private.lock_own_project(uuid) FROM public, anon;
REVOKE ALL ON FUNCTION private.set_project_title(public.project_overview, text, bigint)
FROM public, anon;
REVOKE ALL ON FUNCTION private.duplicated_scene_id(uuid, uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.check_project_title(text) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.lock_own_project(uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.set_project_title(public.project_overview, text, bigint)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.duplicated_scene_id(uuid, uuid) TO authenticated, service_role;

-- The caller's projects, newest change first; archived ones only when asked, deleted ones never.
CREATE OR REPLACE FUNCTION public.list_project_overviews(p_include_archived boolean DEFAULT false)
RETURNS SETOF public.project_overview
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
BEGIN
    RETURN QUERY
    SELECT p.*
    FROM public.project_overview AS p
    WHERE p.user_id = v_user
        AND p.deleted_at IS NULL
        AND (coalesce(p_include_archived, false) OR NOT p.archived)
    ORDER BY p.last_updated DESC, p.project_id;
END;
$$;

REVOKE ALL ON FUNCTION public.list_project_overviews(boolean) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.list_project_overviews(boolean) TO authenticated, service_role;

-- Creates the project (title 'Untitled project' unless given) or, when it is already the
-- caller's, sets its title (see private.set_project_title). Replaying a call changes nothing.
-- An id that belongs to another user's project is id_conflict; a deleted project is not_found.
CREATE OR REPLACE FUNCTION public.upsert_project_overview(
    p_project_id uuid, p_title text DEFAULT NULL, p_base_version bigint DEFAULT NULL
)
RETURNS public.project_overview
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_project public.project_overview;
BEGIN
    IF p_project_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'a project id is required');
    END IF;
    PERFORM private.check_project_title(p_title);
    IF p_base_version IS NOT NULL AND p_base_version < 1 THEN
        PERFORM private.raise_error(
            'invalid_input', 'a base version is at least 1',
            jsonb_build_object('field', 'base_version')
        );
    END IF;

    INSERT INTO public.project_overview AS p (project_id, user_id, title)
    VALUES (p_project_id, v_user, coalesce(p_title, 'Untitled project'))
    ON CONFLICT (project_id) DO NOTHING
    RETURNING p.* INTO v_project;
    IF found THEN
        RETURN v_project;
    END IF;

    -- The id exists: the caller's own project (update it) or someone else's (never revealed).
    SELECT p.* INTO v_project
    FROM public.project_overview AS p
    WHERE p.project_id = p_project_id AND p.user_id = v_user
    FOR UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error(
            'id_conflict', format('the project id %s is already in use', p_project_id)
        );
    END IF;
    IF v_project.deleted_at IS NOT NULL THEN
        PERFORM private.raise_error('not_found', format('project %s was deleted', p_project_id));
    END IF;
    RETURN private.set_project_title(v_project, p_title, p_base_version);
END;
$$;

REVOKE ALL ON FUNCTION public.upsert_project_overview(uuid, text, bigint) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.upsert_project_overview(uuid, text, bigint)
TO authenticated, service_role;

-- Renames one of the caller's projects (see private.set_project_title).
CREATE OR REPLACE FUNCTION public.rename_project(
    p_project_id uuid, p_title text, p_base_version bigint DEFAULT NULL
)
RETURNS public.project_overview
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    PERFORM private.require_user();
    IF p_title IS NULL THEN
        PERFORM private.raise_error(
            'invalid_input', 'a new title is required', jsonb_build_object('field', 'title')
        );
    END IF;
    PERFORM private.check_project_title(p_title);
    IF p_base_version IS NOT NULL AND p_base_version < 1 THEN
        PERFORM private.raise_error(
            'invalid_input', 'a base version is at least 1',
            jsonb_build_object('field', 'base_version')
        );
    END IF;
    RETURN private.set_project_title(
        private.lock_own_project(p_project_id), p_title, p_base_version
    );
END;
$$;

REVOKE ALL ON FUNCTION public.rename_project(uuid, text, bigint) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.rename_project(uuid, text, bigint) TO authenticated, service_role;

-- Copies one of the caller's projects (archived ones too) with its live scenes, in their order
-- (renumbered 0..n-1), under the client-chosen id p_new_project_id. The title defaults to the
-- source's title followed by ' (copy)'. Copied scene ids come from
-- private.duplicated_scene_id(new project, source scene).
--
-- Replay: when p_new_project_id is already the caller's copy of this source (its
-- duplicated_from), the call is a replay and returns that project unchanged, whatever was done
-- to it since. Any other project with that id (the caller's or another user's) is id_conflict;
-- a deleted one is not_found.
CREATE OR REPLACE FUNCTION public.duplicate_project(
    p_source_project_id uuid, p_new_project_id uuid, p_title text DEFAULT NULL
)
RETURNS public.project_overview
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_source public.project_overview;
    v_copy public.project_overview;
BEGIN
    IF p_source_project_id IS NULL OR p_new_project_id IS NULL THEN
        PERFORM private.raise_error(
            'invalid_input', 'the source and the new project id are required'
        );
    END IF;
    IF p_source_project_id = p_new_project_id THEN
        PERFORM private.raise_error(
            'invalid_input', 'the copy needs an id of its own',
            jsonb_build_object('field', 'new_project_id')
        );
    END IF;
    PERFORM private.check_project_title(p_title);

    v_source := private.lock_own_project(p_source_project_id);

    SELECT p.* INTO v_copy
    FROM public.project_overview AS p
    WHERE p.project_id = p_new_project_id AND p.user_id = v_user
    FOR UPDATE;
    IF found THEN
        IF v_copy.deleted_at IS NOT NULL THEN
            PERFORM private.raise_error(
                'not_found', format('project %s was deleted', p_new_project_id)
            );
        END IF;
        IF v_copy.duplicated_from = p_source_project_id THEN
            RETURN v_copy;
        END IF;
        PERFORM private.raise_error(
            'id_conflict', format('the project id %s is already in use', p_new_project_id)
        );
    END IF;

    INSERT INTO public.project_overview AS p (project_id, user_id, title, duplicated_from)
    VALUES (
        p_new_project_id,
        v_user,
        coalesce(p_title, left(v_source.title, 193) || ' (copy)'),
        p_source_project_id
    )
    ON CONFLICT (project_id) DO NOTHING;
    IF NOT found THEN
        PERFORM private.raise_error(
            'id_conflict', format('the project id %s is already in use', p_new_project_id)
        );
    END IF;

    INSERT INTO public.scene_drafts (
        id, user_id, project_id, order_index, prompt_text, duration, scene_type, shot_type
    )
    SELECT
        private.duplicated_scene_id(p_new_project_id, s.id),
        v_user,
        p_new_project_id,
        (row_number() OVER (ORDER BY s.order_index, s.id) - 1)::integer,
        s.prompt_text,
        s.duration,
        s.scene_type,
        s.shot_type
    FROM public.scene_drafts AS s
    WHERE s.project_id = p_source_project_id AND s.user_id = v_user
        AND NOT s.archived AND s.deleted_at IS NULL;

    SELECT p.* INTO v_copy
    FROM public.project_overview AS p
    WHERE p.project_id = p_new_project_id AND p.user_id = v_user;
    RETURN v_copy;
EXCEPTION
    WHEN unique_violation THEN
        -- A copied scene id is taken by a row the caller cannot see.
        PERFORM private.raise_error(
            'id_conflict', format('the project id %s is already in use', p_new_project_id)
        );
        RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION public.duplicate_project(uuid, uuid, text) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.duplicate_project(uuid, uuid, text)
TO authenticated, service_role;

-- Archives one of the caller's projects; archiving an archived project changes nothing.
CREATE OR REPLACE FUNCTION public.archive_project(p_project_id uuid)
RETURNS public.project_overview
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_project public.project_overview := private.lock_own_project(p_project_id);
BEGIN
    IF v_project.archived THEN
        RETURN v_project;
    END IF;
    UPDATE public.project_overview AS p
    SET archived = true
    WHERE p.project_id = v_project.project_id
    RETURNING p.* INTO v_project;
    RETURN v_project;
END;
$$;

REVOKE ALL ON FUNCTION public.archive_project(uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.archive_project(uuid) TO authenticated, service_role;
