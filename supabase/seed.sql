-- Seed data for local development (applied by `supabase db reset` and the local stack).
-- Users come from sign-up; the sample project is imported per user through
-- public.import_sample_project(), so this file only has to be safe to run twice.
SELECT 1;
