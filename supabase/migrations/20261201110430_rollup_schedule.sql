-- Supabase Cron: the rollups run every 15 minutes through pg_cron where it can run here (hosted
-- Supabase, or the local stack, which preloads it for its database). Elsewhere (plain PostgreSQL
-- without pg_cron, a server that does not preload it, or pg_cron configured for another
-- database) nothing is created and the migration succeeds. Safe to run twice: cron.schedule
-- replaces a job of the same name. The job runs as the role that applied the migration
-- (postgres), which owns and may execute public.run_due_rollups() (docs/rollups.md).

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        IF NOT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_cron') THEN
            RAISE NOTICE 'pg_cron is not installed: rollups are not scheduled';
            RETURN;
        END IF;
        BEGIN
            -- Fails unless the server preloads pg_cron and this is its cron.database_name.
            CREATE EXTENSION pg_cron;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'pg_cron cannot run in this database (%): rollups are not scheduled',
                sqlerrm;
            RETURN;
        END;
    END IF;
    PERFORM cron.schedule(
        'directorstudio-rollups', '*/15 * * * *', 'SELECT public.run_due_rollups()'
    );
END;
$$;
