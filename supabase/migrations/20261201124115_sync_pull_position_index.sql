-- The pull index holds a page's whole position: sync_pull pages each table in
-- (sync_txid, id) order after the cursor's position, so an index ending in the row id lets every
-- page start at the cursor and stop after one page, even when many rows share one transaction
-- (an import, a duplicated project). It replaces the (user_id, sync_txid) indexes, which it
-- covers (also as the index of the user_id foreign keys).
-- Every statement is safe to run twice.

CREATE INDEX IF NOT EXISTS ix_project_overview_user_sync_id
ON public.project_overview (user_id, sync_txid, project_id);
CREATE INDEX IF NOT EXISTS ix_scene_drafts_user_sync_id
ON public.scene_drafts (user_id, sync_txid, id);
CREATE INDEX IF NOT EXISTS ix_screenplays_user_sync_id
ON public.screenplays (user_id, sync_txid, id);
CREATE INDEX IF NOT EXISTS ix_screenplay_sections_user_sync_id
ON public.screenplay_sections (user_id, sync_txid, id);
CREATE INDEX IF NOT EXISTS ix_clip_jobs_user_sync_id
ON public.clip_jobs (user_id, sync_txid, id);

DROP INDEX IF EXISTS public.ix_project_overview_user_sync;
DROP INDEX IF EXISTS public.ix_scene_drafts_user_sync;
DROP INDEX IF EXISTS public.ix_screenplays_user_sync;
DROP INDEX IF EXISTS public.ix_screenplay_sections_user_sync;
DROP INDEX IF EXISTS public.ix_clip_jobs_user_sync;
