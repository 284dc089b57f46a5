-- The sample project of the empty state ("import sample"): a short film with a few scene
-- drafts, created for the caller under the given project id. Scene ids are derived from the
-- project id, so importing again creates nothing and returns the same project. Runs as the
-- caller: the owner policies of project_overview and scene_drafts apply.

CREATE OR REPLACE FUNCTION public.import_sample_project(p_project_id uuid)
RETURNS public.project_overview
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_user uuid := private.require_user();
    v_project public.project_overview;
BEGIN
    IF p_project_id IS NULL THEN
        PERFORM private.raise_error('invalid_input', 'project id is required');
    END IF;

    SELECT * INTO v_project FROM public.project_overview AS p WHERE p.project_id = p_project_id;
    IF FOUND THEN
        RETURN v_project;
    END IF;

    BEGIN
        INSERT INTO public.project_overview (project_id, user_id, title)
        VALUES (p_project_id, v_user, 'Sample: The Lighthouse Keeper');
    EXCEPTION WHEN unique_violation THEN
        -- Another user's project, invisible under RLS: never reveal that it exists.
        PERFORM private.raise_error('id_conflict', 'the project id is already in use');
    END;

    INSERT INTO public.scene_drafts (
        id, user_id, project_id, order_index, prompt_text, duration, scene_type, shot_type
    )
    SELECT
        md5(p_project_id::text || ':sample:' || s.order_index::text)::uuid,
        v_user,
        p_project_id,
        s.order_index,
        s.prompt_text,
        s.duration,
        s.scene_type,
        s.shot_type
    FROM (
        VALUES
        (0, 'A storm rolls over a lonely lighthouse at dusk; waves crash on black rocks.',
            4.0::double precision, 'establishing', 'wide'),
        (1, 'The keeper climbs the spiral stairs with a lantern, breathing hard.',
            3.0, 'action', 'medium'),
        (2, 'Close on the keeper''s hands relighting the great lamp as rain hits the glass.',
            3.0, 'detail', 'close-up'),
        (3, 'The beam sweeps the sea and finds a small boat fighting the waves.',
            5.0, 'reveal', 'wide')
    ) AS s (order_index, prompt_text, duration, scene_type, shot_type)
    ON CONFLICT (id) DO NOTHING;

    SELECT * INTO v_project FROM public.project_overview AS p WHERE p.project_id = p_project_id;
    RETURN v_project;
END;
$$;

REVOKE ALL ON FUNCTION public.import_sample_project(uuid) FROM public, anon;
GRANT EXECUTE ON FUNCTION public.import_sample_project(uuid) TO authenticated, service_role;
