-- Scene drafts: list, create, update (field-level conflicts), reorder and soft delete the
-- scenes of the caller's projects.
--
-- SECURITY INVOKER, like 20_projects.sql: RLS keeps other users' rows invisible, so they are
-- reported as not_found. The triggers maintain versions and the project's scene_count and
-- total_duration; a call that would change nothing writes nothing.
--
-- Every writer locks the project row first (private.lock_own_project, SELECT ... FOR UPDATE),
-- then the scene rows: writers of one project run one after the other, so concurrent creates
-- and reorders leave distinct order_index values and never deadlock on the project row that the
-- totals trigger updates.
--
-- Lifecycle decisions: scenes of an archived project can be listed, created and edited (archive
-- only hides the project from the default list); a deleted project and everything in it is
-- not_found. A soft-deleted scene is a tombstone: it can no longer be updated (not_found), and
-- deleting it again returns it unchanged. Order indexes: live scenes are appended after the
-- highest live order_index; soft delete leaves a gap that the next reorder closes.

-- Validates the given scene fields (NULL means "not given") as invalid_input.
CREATE OR REPLACE FUNCTION private.check_scene_fields(
    p_prompt_text text,
    p_duration double precision,
    p_scene_type text,
    p_shot_type text
)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF char_length(p_prompt_text) > 10000 THEN
        PERFORM private.raise_error(
            'invalid_input', 'prompt_text has at most 10000 characters',
            jsonb_build_object('field', 'prompt_text')
        );
    END IF;
    IF NOT (p_duration > 0 AND p_duration <= 600) THEN
        PERFORM private.raise_error(
            'invalid_input', 'duration is more than 0 and at most 600 seconds',
            jsonb_build_object('field', 'duration')
        );
    END IF;
    IF char_length(p_scene_type) > 100 THEN
        PERFORM private.raise_error(
            'invalid_input', 'scene_type has at most 100 characters',
            jsonb_build_object('field', 'scene_type')
        );
    END IF;
    IF char_length(p_shot_type) > 100 THEN
        PERFORM private.raise_error(
            'invalid_input', 'shot_type has at most 100 characters',
            jsonb_build_object('field', 'shot_type')
        );
    END IF;
END;
$$;

-- The caller's scene p_id, locked after its (live) project, or not_found. Tombstones are
-- returned too; callers decide what a deleted scene means for them.
CREATE OR REPLACE FUNCTION private.lock_own_scene(p_id uuid)
RETURNS public.scene_drafts
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_project_id uuid;
    v_scene public.scene_drafts;
BEGIN
    IF p_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'a scene id is required');
    END IF;
    SELECT s.project_id INTO v_project_id
    FROM public.scene_drafts AS s
    WHERE s.id = p_id AND s.user_id = v_user;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', format('no scene %s', p_id));
    END IF;
    PERFORM private.lock_own_project(v_project_id);
    SELECT s.* INTO v_scene
    FROM public.scene_drafts AS s
    WHERE s.id = p_id AND s.user_id = v_user
    FOR UPDATE;
    IF NOT found THEN
        PERFORM private.raise_error('not_found', format('no scene %s', p_id));
    END IF;
    RETURN v_scene;
END;
$$;

REVOKE ALL ON FUNCTION private.check_scene_fields(text, double precision, text, text)
FROM public, anon;
REVOKE ALL ON FUNCTION private.lock_own_scene(uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.check_scene_fields(text, double precision, text, text)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.lock_own_scene(uuid) TO authenticated, service_role;

-- The live scenes (not archived, not deleted) of one of the caller's projects, in order.
CREATE OR REPLACE FUNCTION public.list_scene_drafts(p_project_id uuid)
RETURNS SETOF public.scene_drafts
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
BEGIN
    IF NOT EXISTS (
        SELECT FROM public.project_overview AS p
        WHERE p.project_id = p_project_id AND p.user_id = v_user AND p.deleted_at IS NULL
    ) THEN
        PERFORM private.raise_error('not_found', format('no project %s', p_project_id));
    END IF;
    RETURN QUERY
    SELECT s.*
    FROM public.scene_drafts AS s
    WHERE s.project_id = p_project_id AND s.user_id = v_user
        AND NOT s.archived AND s.deleted_at IS NULL
    ORDER BY s.order_index, s.id;
END;
$$;

REVOKE ALL ON FUNCTION public.list_scene_drafts(uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.list_scene_drafts(uuid) TO authenticated, service_role;

-- Creates a scene at the end of the project, or at p_order_index (clamped to the end) with the
-- live scenes from there on shifted down by one. Replaying the call (same id, project, prompt,
-- duration, scene and shot type; the order index is not compared since later writes may have
-- moved the scene) returns the existing scene unchanged; the same id with other content, or an
-- id taken by a row the caller cannot see, is id_conflict.
CREATE OR REPLACE FUNCTION public.create_scene_draft(
    p_id uuid,
    p_project_id uuid,
    p_prompt_text text,
    p_duration double precision,
    p_scene_type text DEFAULT NULL,
    p_shot_type text DEFAULT NULL,
    p_order_index integer DEFAULT NULL
)
RETURNS public.scene_drafts
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_scene public.scene_drafts;
    v_end integer;
    v_index integer;
BEGIN
    IF p_id IS NULL OR p_project_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'the scene id and project id are required');
    END IF;
    IF p_prompt_text IS NULL OR p_duration IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'prompt_text and duration are required');
    END IF;
    PERFORM private.check_scene_fields(p_prompt_text, p_duration, p_scene_type, p_shot_type);
    IF p_order_index < 0 THEN
        PERFORM private.raise_error(
            'invalid_input', 'order_index is at least 0',
            jsonb_build_object('field', 'order_index')
        );
    END IF;

    PERFORM private.lock_own_project(p_project_id);

    SELECT s.* INTO v_scene
    FROM public.scene_drafts AS s
    WHERE s.id = p_id AND s.user_id = v_user;
    IF found THEN
        IF (v_scene.project_id, v_scene.prompt_text, v_scene.duration,
            v_scene.scene_type, v_scene.shot_type)
            IS NOT DISTINCT FROM (p_project_id, p_prompt_text, p_duration,
                                  p_scene_type, p_shot_type)
        THEN
            RETURN v_scene;
        END IF;
        PERFORM private.raise_error(
            'id_conflict', format('the scene id %s was already used for another scene', p_id)
        );
    END IF;

    SELECT coalesce(max(s.order_index) + 1, 0) INTO v_end
    FROM public.scene_drafts AS s
    WHERE s.project_id = p_project_id AND s.user_id = v_user
        AND NOT s.archived AND s.deleted_at IS NULL;
    v_index := least(coalesce(p_order_index, v_end), v_end);
    IF v_index < v_end THEN
        UPDATE public.scene_drafts AS s
        SET order_index = s.order_index + 1
        WHERE s.project_id = p_project_id AND s.user_id = v_user
            AND NOT s.archived AND s.deleted_at IS NULL
            AND s.order_index >= v_index;
    END IF;

    INSERT INTO public.scene_drafts AS s (
        id, user_id, project_id, order_index, prompt_text, duration, scene_type, shot_type
    )
    VALUES (
        p_id, v_user, p_project_id, v_index, p_prompt_text, p_duration, p_scene_type, p_shot_type
    )
    ON CONFLICT (id) DO NOTHING
    RETURNING s.* INTO v_scene;
    IF NOT found THEN
        PERFORM private.raise_error(
            'id_conflict', format('the scene id %s is already in use', p_id)
        );
    END IF;
    RETURN v_scene;
END;
$$;

REVOKE ALL ON FUNCTION public.create_scene_draft(
    uuid, uuid, text, double precision, text, text, integer
) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.create_scene_draft(
    uuid, uuid, text, double precision, text, text, integer
) TO authenticated, service_role;

-- Applies a patch of changed fields (prompt_text, duration, scene_type, shot_type) that the
-- client based on version p_base_version. A patched field that the server changed after that
-- version (field_versions) to a value other than the patched one is a version_conflict with
-- detail {"current": <row>, "fields": [...]}, and nothing is written; stale fields that do not
-- overlap merge. A base version newer than the row, an unknown key or an invalid value is
-- invalid_input. A patch that changes nothing writes nothing.
-- The checks of an update_scene_draft patch: a JSON object of known fields with valid values.
CREATE OR REPLACE FUNCTION private.check_scene_patch(p_patch jsonb)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    c_keys constant text[] := ARRAY['prompt_text', 'duration', 'scene_type', 'shot_type'];
    v_unknown text[];
BEGIN
    IF p_patch IS NULL OR jsonb_typeof(p_patch) <> 'object' THEN
        PERFORM private.raise_error('invalid_input', 'the patch must be a JSON object');
    END IF;
    SELECT array_agg(k ORDER BY k) INTO v_unknown
    FROM jsonb_object_keys(p_patch) AS k
    WHERE k <> ALL (c_keys);
    IF v_unknown IS NOT NULL THEN
        PERFORM private.raise_error(
            'invalid_input', 'the patch has fields that cannot be changed',
            jsonb_build_object('fields', to_jsonb(v_unknown))
        );
    END IF;
    IF p_patch ? 'prompt_text' AND jsonb_typeof(p_patch -> 'prompt_text') <> 'string' THEN
        PERFORM private.raise_error(
            'invalid_input', 'prompt_text must be a string',
            jsonb_build_object('field', 'prompt_text')
        );
    END IF;
    IF p_patch ? 'duration' AND (
        jsonb_typeof(p_patch -> 'duration') <> 'number'
        OR NOT ((p_patch ->> 'duration')::numeric > 0 AND (p_patch ->> 'duration')::numeric <= 600)
    ) THEN
        PERFORM private.raise_error(
            'invalid_input', 'duration must be a number more than 0 and at most 600',
            jsonb_build_object('field', 'duration')
        );
    END IF;
    IF jsonb_typeof(p_patch -> 'scene_type') NOT IN ('string', 'null')
        OR jsonb_typeof(p_patch -> 'shot_type') NOT IN ('string', 'null')
    THEN
        PERFORM private.raise_error(
            'invalid_input', 'scene_type and shot_type must be strings or null'
        );
    END IF;
    PERFORM private.check_scene_fields(
        p_patch ->> 'prompt_text',
        coalesce((p_patch ->> 'duration')::double precision, 1),
        p_patch ->> 'scene_type',
        p_patch ->> 'shot_type'
    );
END;
$$;

REVOKE ALL ON FUNCTION private.check_scene_patch(jsonb) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.check_scene_patch(jsonb) TO authenticated, service_role;

CREATE OR REPLACE FUNCTION public.update_scene_draft(
    p_id uuid, p_base_version bigint, p_patch jsonb
)
RETURNS public.scene_drafts
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_scene public.scene_drafts;
    v_current jsonb;
    v_conflicts text[];
    v_changed boolean;
BEGIN
    PERFORM private.require_user();
    IF p_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'a scene id is required');
    END IF;
    IF p_base_version IS NULL OR p_base_version < 1 THEN
        PERFORM private.raise_error(
            'invalid_input', 'a base version of at least 1 is required',
            jsonb_build_object('field', 'base_version')
        );
    END IF;
    PERFORM private.check_scene_patch(p_patch);

    v_scene := private.lock_own_scene(p_id);
    IF v_scene.deleted_at IS NOT NULL THEN
        PERFORM private.raise_error('not_found', format('scene %s was deleted', p_id));
    END IF;
    IF p_base_version > v_scene.version THEN
        PERFORM private.raise_error(
            'invalid_input',
            format('base version %s is newer than the scene (version %s)',
                   p_base_version, v_scene.version),
            jsonb_build_object('field', 'base_version')
        );
    END IF;

    v_current := to_jsonb(v_scene);
    SELECT
        array_agg(e.key ORDER BY e.key) FILTER (
            WHERE coalesce((v_scene.field_versions ->> e.key)::bigint, 0) > p_base_version
        ),
        coalesce(bool_or(true), false)
    INTO v_conflicts, v_changed
    FROM jsonb_each(p_patch) AS e
    WHERE v_current -> e.key IS DISTINCT FROM e.value;
    IF v_conflicts IS NOT NULL THEN
        PERFORM private.raise_error(
            'version_conflict',
            format('scene %s changed since version %s', p_id, p_base_version),
            jsonb_build_object('current', v_current, 'fields', to_jsonb(v_conflicts))
        );
    END IF;
    IF NOT v_changed THEN
        RETURN v_scene;
    END IF;

    UPDATE public.scene_drafts AS s
    SET
        prompt_text = CASE
            WHEN p_patch ? 'prompt_text' THEN p_patch ->> 'prompt_text' ELSE s.prompt_text
        END,
        duration = CASE
            WHEN p_patch ? 'duration' THEN (p_patch ->> 'duration')::double precision
            ELSE s.duration
        END,
        scene_type = CASE
            WHEN p_patch ? 'scene_type' THEN p_patch ->> 'scene_type' ELSE s.scene_type
        END,
        shot_type = CASE
            WHEN p_patch ? 'shot_type' THEN p_patch ->> 'shot_type' ELSE s.shot_type
        END
    WHERE s.id = p_id
    RETURNING s.* INTO v_scene;
    RETURN v_scene;
END;
$$;

REVOKE ALL ON FUNCTION public.update_scene_draft(uuid, bigint, jsonb) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.update_scene_draft(uuid, bigint, jsonb)
TO authenticated, service_role;

-- Puts the project's live scenes in the given order: order_index becomes 0..n-1 along
-- p_ordered_ids. The list must hold every live scene exactly once, else stale_order with detail
-- {"current": [live scene ids in their current order]}; a list with NULLs or repeated ids is
-- invalid_input. Scenes already in place keep their version.
CREATE OR REPLACE FUNCTION public.reorder_scene_drafts(p_project_id uuid, p_ordered_ids uuid[])
RETURNS SETOF public.scene_drafts
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_current uuid[];
BEGIN
    IF p_ordered_ids IS NULL OR array_position(p_ordered_ids, NULL) IS NOT NULL THEN
        PERFORM private.raise_error('invalid_input', 'the ordered ids must be a list of ids');
    END IF;
    IF cardinality(p_ordered_ids)
        <> (SELECT count(DISTINCT i) FROM unnest(p_ordered_ids) AS i)
    THEN
        PERFORM private.raise_error('invalid_input', 'the ordered ids repeat an id');
    END IF;

    PERFORM private.lock_own_project(p_project_id);

    SELECT coalesce(array_agg(s.id ORDER BY s.order_index, s.id), '{}') INTO v_current
    FROM public.scene_drafts AS s
    WHERE s.project_id = p_project_id AND s.user_id = v_user
        AND NOT s.archived AND s.deleted_at IS NULL;
    IF cardinality(v_current) <> cardinality(p_ordered_ids)
        OR NOT (v_current @> p_ordered_ids)
    THEN
        PERFORM private.raise_error(
            'stale_order',
            format('the ordered ids do not match the live scenes of project %s', p_project_id),
            jsonb_build_object('current', to_jsonb(v_current))
        );
    END IF;

    UPDATE public.scene_drafts AS s
    SET order_index = (o.ord - 1)::integer
    FROM unnest(p_ordered_ids) WITH ORDINALITY AS o (id, ord)
    WHERE s.id = o.id AND s.user_id = v_user AND s.order_index <> o.ord - 1;

    RETURN QUERY
    SELECT s.*
    FROM public.scene_drafts AS s
    WHERE s.project_id = p_project_id AND s.user_id = v_user
        AND NOT s.archived AND s.deleted_at IS NULL
    ORDER BY s.order_index, s.id;
END;
$$;

REVOKE ALL ON FUNCTION public.reorder_scene_drafts(uuid, uuid[]) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.reorder_scene_drafts(uuid, uuid[])
TO authenticated, service_role;

-- Soft-deletes a scene: archived = true and deleted_at set once, keeping a tombstone that syncs;
-- deleting it again returns the tombstone unchanged.
CREATE OR REPLACE FUNCTION public.soft_delete_scene_draft(p_id uuid)
RETURNS public.scene_drafts
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_scene public.scene_drafts := private.lock_own_scene(p_id);
BEGIN
    IF v_scene.deleted_at IS NOT NULL THEN
        RETURN v_scene;
    END IF;
    UPDATE public.scene_drafts AS s
    SET archived = true, deleted_at = now()
    WHERE s.id = p_id
    RETURNING s.* INTO v_scene;
    RETURN v_scene;
END;
$$;

REVOKE ALL ON FUNCTION public.soft_delete_scene_draft(uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.soft_delete_scene_draft(uuid) TO authenticated, service_role;
