-- project_overview.scene_count and total_duration are derived from the project's live scene
-- drafts and recomputed on every write of the project row, so no writer can set them. Any write
-- of scene drafts touches their projects once per statement.

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

CREATE OR REPLACE FUNCTION private.touch_projects_of_scenes()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    UPDATE public.project_overview AS p
    SET last_updated = now()
    WHERE p.project_id IN (SELECT DISTINCT c.project_id FROM changed_scenes AS c);
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION private.compute_project_totals() FROM public;
REVOKE ALL ON FUNCTION private.touch_projects_of_scenes() FROM public;

CREATE OR REPLACE TRIGGER t10_compute_project_totals
BEFORE INSERT OR UPDATE ON public.project_overview
FOR EACH ROW EXECUTE FUNCTION private.compute_project_totals();

CREATE OR REPLACE TRIGGER t50_touch_projects_after_insert
AFTER INSERT ON public.scene_drafts
REFERENCING NEW TABLE AS changed_scenes
FOR EACH STATEMENT EXECUTE FUNCTION private.touch_projects_of_scenes();

CREATE OR REPLACE TRIGGER t50_touch_projects_after_update
AFTER UPDATE ON public.scene_drafts
REFERENCING NEW TABLE AS changed_scenes
FOR EACH STATEMENT EXECUTE FUNCTION private.touch_projects_of_scenes();
