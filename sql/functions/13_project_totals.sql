-- project_overview.scene_count and total_duration are derived from the project's live scene
-- drafts, so no writer can set them. Any write of scene drafts recomputes the totals of their
-- projects (and touches last_updated) once per statement, in one set-based UPDATE over the
-- statement's transition tables. A project row written by anyone else gets its totals
-- recomputed only when the write tries to change them (the WHEN clauses below), so ordinary
-- project writes cost no query.
--
-- The statement triggers run as the tables' owner (SECURITY DEFINER), so their refresh carries
-- no row-level-security condition on the user. That condition would let the planner walk the
-- user's index, reading every project of the user, whenever the statistics underestimate the
-- user's rows; without it, each project is found by key. It grants nothing: the projects come
-- from the transition tables of scenes the caller was allowed to write, and a scene's project
-- has the scene's owner (the composite foreign key).

CREATE OR REPLACE FUNCTION private.compute_project_totals()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    SELECT count(*), coalesce(sum(s.duration), 0)
    INTO NEW.scene_count, NEW.total_duration
    FROM public.scene_drafts AS s
    WHERE s.project_id = NEW.project_id AND NOT s.archived AND s.deleted_at IS NULL;
    RETURN NEW;
END;
$$;

-- Recomputes the totals of the given projects and touches them.
CREATE OR REPLACE FUNCTION private.refresh_project_totals(p_project_ids uuid [])
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    UPDATE public.project_overview AS p
    SET scene_count = t.scene_count, total_duration = t.total_duration, last_updated = now()
    FROM (
        SELECT
            s.project_id,
            s.user_id,
            count(*) FILTER (WHERE NOT s.archived AND s.deleted_at IS NULL) AS scene_count,
            coalesce(
                sum(s.duration) FILTER (WHERE NOT s.archived AND s.deleted_at IS NULL), 0
            ) AS total_duration
        FROM public.scene_drafts AS s
        WHERE s.project_id = ANY (p_project_ids)
        GROUP BY s.project_id, s.user_id
    ) AS t
    -- Each project is found by key, whatever the statistics say about the table or the user.
    WHERE p.project_id = ANY (p_project_ids)
        AND p.project_id = t.project_id AND p.user_id = t.user_id
        -- A project already touched by this transaction with the same totals is left alone:
        -- writing it again would change nothing but cost a row version and its triggers.
        AND (
            p.last_updated IS DISTINCT FROM now()
            OR p.scene_count IS DISTINCT FROM t.scene_count
            OR p.total_duration IS DISTINCT FROM t.total_duration
        );
END;
$$;

CREATE OR REPLACE FUNCTION private.touch_projects_of_scenes()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM private.refresh_project_totals(
        ARRAY(SELECT DISTINCT c.project_id FROM changed_scenes AS c));
    RETURN NULL;
END;
$$;

-- Touches the given projects (last_updated), unless this transaction already did. When it did
-- for all of them (a batch's later statements), no UPDATE runs, so no statement trigger fires.
CREATE OR REPLACE FUNCTION private.touch_projects(p_project_ids uuid [])
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF EXISTS (
        SELECT FROM public.project_overview AS p
        WHERE p.project_id = ANY (p_project_ids) AND p.last_updated IS DISTINCT FROM now()
    ) THEN
        UPDATE public.project_overview AS p
        SET last_updated = now()
        WHERE p.project_id = ANY (p_project_ids) AND p.last_updated IS DISTINCT FROM now();
    END IF;
END;
$$;

-- An update may move a scene to another project: both projects are refreshed. Only a change of
-- a scene's project, owner, duration, archived or deleted_at (or of its id) can change totals;
-- the projects of scenes whose updates changed none of them (edits, reorders) are only touched,
-- without recounting their scenes.
CREATE OR REPLACE FUNCTION private.touch_projects_of_updated_scenes()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    -- The projects on either side of each scene whose update changed a column the totals
    -- depend on (a scene without a twin of its id on the other side changed its id).
    v_recount uuid[] := ARRAY(
        SELECT DISTINCT v.project_id
        FROM changed_scenes AS c
        FULL JOIN previous_scenes AS o ON o.id = c.id
        CROSS JOIN LATERAL (VALUES (c.project_id), (o.project_id)) AS v (project_id)
        WHERE v.project_id IS NOT NULL
            AND (c.project_id, c.user_id, c.duration, c.archived, c.deleted_at)
            IS DISTINCT FROM (o.project_id, o.user_id, o.duration, o.archived, o.deleted_at));
BEGIN
    IF cardinality(v_recount) > 0 THEN
        PERFORM private.refresh_project_totals(v_recount);
    END IF;
    PERFORM private.touch_projects(ARRAY(
        SELECT DISTINCT c.project_id FROM changed_scenes AS c
        WHERE c.project_id <> ALL (v_recount)));
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION private.compute_project_totals() FROM public;
REVOKE ALL ON FUNCTION private.touch_projects_of_scenes() FROM public;
REVOKE ALL ON FUNCTION private.touch_projects_of_updated_scenes() FROM public;
-- Called only by the owner's triggers above.
REVOKE ALL ON FUNCTION private.refresh_project_totals(uuid [])
FROM public, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION private.touch_projects(uuid [])
FROM public, anon, authenticated, service_role;

CREATE OR REPLACE TRIGGER t10_compute_project_totals
BEFORE INSERT ON public.project_overview
FOR EACH ROW
WHEN (NEW.scene_count IS DISTINCT FROM 0 OR NEW.total_duration IS DISTINCT FROM 0)
EXECUTE FUNCTION private.compute_project_totals();

-- The refresh above runs inside a trigger (depth 1) and writes the totals it just computed.
CREATE OR REPLACE TRIGGER t10_compute_project_totals_update
BEFORE UPDATE ON public.project_overview
FOR EACH ROW
WHEN (
    pg_trigger_depth() < 1
    AND (
        NEW.scene_count IS DISTINCT FROM OLD.scene_count
        OR NEW.total_duration IS DISTINCT FROM OLD.total_duration
    )
)
EXECUTE FUNCTION private.compute_project_totals();

CREATE OR REPLACE TRIGGER t50_touch_projects_after_insert
AFTER INSERT ON public.scene_drafts
REFERENCING NEW TABLE AS changed_scenes
FOR EACH STATEMENT EXECUTE FUNCTION private.touch_projects_of_scenes();

CREATE OR REPLACE TRIGGER t50_touch_projects_after_update
AFTER UPDATE ON public.scene_drafts
REFERENCING OLD TABLE AS previous_scenes NEW TABLE AS changed_scenes
FOR EACH STATEMENT EXECUTE FUNCTION private.touch_projects_of_updated_scenes();
