-- A duplicated project remembers the project it was copied from, so that replaying the
-- duplication is recognised exactly (and reusing the id for anything else is an id conflict).
ALTER TABLE public.project_overview ADD COLUMN IF NOT EXISTS duplicated_from uuid;
