-- A scene's owner is its project's owner: scene_drafts_project_fkey references
-- project_overview (project_id, user_id) with ON DELETE CASCADE, project_id is NOT NULL, and the
-- project's user_id references app_users with ON DELETE CASCADE. The direct reference from
-- scene_drafts.user_id to app_users therefore checked nothing the project reference does not
-- (a user who does not exist owns no project), and cost one more check per inserted scene.
ALTER TABLE public.scene_drafts DROP CONSTRAINT IF EXISTS scene_drafts_user_id_fkey;
