-- Version stamps: per-table stamp functions that compare every data column, inserts that keep
-- the defaults unless a writer forges them, and multi-row statements stamped row by row.
SET LOCAL search_path = extensions, public;
SELECT plan(5);

SELECT is(
    (SELECT array_agg(c.table_name || '.' || c.column_name ORDER BY 1)
     FROM information_schema.columns AS c
     LEFT JOIN pg_proc AS p
         ON p.proname = 'stamp_' || c.table_name
         AND p.pronamespace = 'private'::regnamespace
     WHERE c.table_schema = 'public'
       AND c.table_name IN ('project_overview', 'scene_drafts', 'screenplays',
                            'screenplay_sections', 'clip_jobs')
       AND c.column_name NOT IN ('user_id', 'version', 'field_versions', 'sync_txid', 'updated_at')
       AND position(format('NEW.%1$s IS DISTINCT FROM OLD.%1$s', c.column_name)
                    IN coalesce(p.prosrc, '')) = 0),
    NULL, 'every data column of every synced table is compared by its table''s stamp function');

SELECT set_config('t.owner', tests.create_user('stamp@example.com')::text, true);

INSERT INTO public.project_overview (project_id, user_id, title, version, field_versions, sync_txid)
VALUES ('61000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid, 'Forged',
        42, '{"title": 42}', '5');

SELECT results_eq(
    $$SELECT version, field_versions, sync_txid = pg_current_xact_id()
      FROM public.project_overview WHERE project_id = '61000000-0000-0000-0000-000000000001'$$,
    $$VALUES (1::bigint, '{}'::jsonb, true)$$,
    'forged bookkeeping on insert is replaced by version 1 and the writing transaction');

INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, duration)
SELECT
    ('62000000-0000-0000-0000-00000000000' || k)::uuid AS id,
    current_setting('t.owner')::uuid AS user_id,
    '61000000-0000-0000-0000-000000000001'::uuid AS project_id,
    k AS order_index,
    'Scene ' || k AS prompt_text,
    1 AS duration
FROM generate_series(1, 3) AS k;

UPDATE public.scene_drafts SET prompt_text = CASE WHEN order_index = 1 THEN 'Same' ELSE 'New' END,
    duration = CASE WHEN order_index = 3 THEN 2 ELSE duration END
WHERE project_id = '61000000-0000-0000-0000-000000000001';

SELECT results_eq(
    $$SELECT order_index, version, field_versions FROM public.scene_drafts
      WHERE project_id = '61000000-0000-0000-0000-000000000001' ORDER BY order_index$$,
    $$VALUES (1, 2::bigint, '{"prompt_text": 2}'::jsonb), (2, 2::bigint, '{"prompt_text": 2}'::jsonb),
             (3, 2::bigint, '{"duration": 2, "prompt_text": 2}'::jsonb)$$,
    'a multi-row update stamps each row with the fields it changed');

UPDATE public.scene_drafts SET prompt_text = prompt_text, version = 99
WHERE project_id = '61000000-0000-0000-0000-000000000001';

SELECT is(
    (SELECT array_agg(version ORDER BY order_index) FROM public.scene_drafts
     WHERE project_id = '61000000-0000-0000-0000-000000000001'),
    ARRAY[2, 2, 2]::bigint [], 'an update that changes no data keeps the rows as they were');

SELECT results_eq(
    $$SELECT scene_count, total_duration FROM public.project_overview
      WHERE project_id = '61000000-0000-0000-0000-000000000001'$$,
    $$VALUES (3::bigint, 4::double precision)$$,
    'multi-row scene statements keep the project totals');

SELECT * FROM finish();
ROLLBACK;
