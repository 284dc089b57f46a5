-- Delta pull: paging through every synced table, tombstones, RLS, cursor validation.
-- (Out-of-order commits need real concurrent transactions: tests/py/integration.)
SET LOCAL search_path = extensions, public;
SELECT plan(17);

SELECT '# setup ' || set_config('t.owner', tests.create_user('puller@example.com')::text, true);
SELECT '# setup ' || set_config('t.other', tests.create_user('other@example.com')::text, true);

INSERT INTO public.project_overview (project_id, user_id, title)
VALUES
    ('51000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid, 'One'),
    ('51000000-0000-0000-0000-000000000002', current_setting('t.owner')::uuid, 'Two'),
    ('51000000-0000-0000-0000-000000000003', current_setting('t.other')::uuid, 'Theirs');
INSERT INTO public.scene_drafts (id, user_id, project_id, order_index, prompt_text, duration)
VALUES
    ('52000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid,
     '51000000-0000-0000-0000-000000000001', 0, 'Opening', 4),
    ('52000000-0000-0000-0000-000000000002', current_setting('t.owner')::uuid,
     '51000000-0000-0000-0000-000000000001', 1, 'Gone', 2);
UPDATE public.scene_drafts SET archived = true, deleted_at = now()
WHERE id = '52000000-0000-0000-0000-000000000002';
INSERT INTO public.screenplays (id, user_id, title, content)
VALUES ('53000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid, 'Play', 'Text');
INSERT INTO public.screenplay_sections (id, user_id, screenplay_id, heading, content, order_index)
VALUES ('54000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid,
        '53000000-0000-0000-0000-000000000001', 'INT.', 'Words', 0);
INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge)
VALUES ('55000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid,
        current_setting('t.owner'), 'A sunrise', 'free');

SELECT coalesce(tests.authenticate_as(current_setting('t.owner')::uuid)::text, '');

-- Every page of one cycle, pulled 3 changes at a time.
CREATE TEMPORARY TABLE pages ON COMMIT DROP AS
WITH RECURSIVE p (n, res) AS (
    SELECT 1, public.sync_pull(NULL, 3)::jsonb
    UNION ALL
    SELECT p.n + 1, public.sync_pull(p.res ->> 'cursor', 3)::jsonb
    FROM p WHERE (p.res ->> 'has_more')::boolean AND p.n < 10
)

SELECT n, res FROM p;
CREATE TEMPORARY TABLE changes ON COMMIT DROP AS
SELECT pages.n, c.ord, c.change
FROM pages, jsonb_array_elements(pages.res -> 'changes') WITH ORDINALITY AS c (change, ord);

SELECT results_eq(
    $$SELECT n, jsonb_array_length(res -> 'changes'), (res ->> 'has_more')::boolean
      FROM pages ORDER BY n$$,
    $$VALUES (1, 3, true), (2, 3, true), (3, 1, false)$$,
    'a pull pages through all 7 of the caller''s rows, 3 at a time, until has_more is false');

SELECT is(
    (SELECT count(*) FROM (
        SELECT DISTINCT change ->> 'table' AS tbl, change ->> 'id' AS id FROM changes) AS d),
    7::bigint, 'paging returns each row exactly once');

SELECT set_eq(
    $$SELECT DISTINCT change ->> 'table' FROM changes$$,
    ARRAY['project_overview', 'scene_drafts', 'screenplays', 'screenplay_sections', 'clip_jobs'],
    'rows of every synced table are pulled');

SELECT is(
    (SELECT array_agg(change ->> 'table' ORDER BY n, ord) FROM changes),
    (SELECT array_agg(change ->> 'table' ORDER BY change ->> 'table' COLLATE "C", change ->> 'id')
     FROM changes),
    'rows written by one transaction come in (table, id) order across pages');

SELECT is(
    (SELECT change -> 'row' ->> 'title' FROM changes
     WHERE change ->> 'id' = '51000000-0000-0000-0000-000000000002'),
    'Two', 'a project change is keyed by project_id and carries the row');

SELECT results_eq(
    $$SELECT (change ->> 'deleted')::boolean, (change ->> 'version')::bigint,
             change -> 'row' ->> 'deleted_at' IS NOT NULL
      FROM changes WHERE change ->> 'id' = '52000000-0000-0000-0000-000000000002'$$,
    $$VALUES (true, 2::bigint, true)$$,
    'a soft-deleted scene is pulled as a tombstone with its version');

SELECT is(
    (SELECT count(*) FROM changes WHERE (change ->> 'deleted')::boolean),
    1::bigint, 'live rows are not marked deleted');

SELECT is(
    (SELECT count(*) FROM changes
     WHERE change ->> 'id' = '51000000-0000-0000-0000-000000000003'
        OR change -> 'row' ->> 'user_id' <> current_setting('t.owner')),
    0::bigint, 'a pull never returns another user''s rows');

SELECT is(
    (SELECT convert_from(decode(res ->> 'cursor', 'base64'), 'UTF8')::jsonb
            - 'since' FROM pages WHERE n = 3),
    '{"v": 1, "after": null, "until": null}'::jsonb,
    'the last page''s cursor closes the cycle: no position, no cycle snapshot');

SELECT ok(
    (SELECT convert_from(decode(res ->> 'cursor', 'base64'), 'UTF8')::jsonb ->> 'since'
     FROM pages WHERE n = 3)
    = (SELECT convert_from(decode(res ->> 'cursor', 'base64'), 'UTF8')::jsonb ->> 'until'
       FROM pages WHERE n = 1),
    'the next cycle starts from the snapshot the finished cycle was taken at');

SELECT coalesce(tests.authenticate_as(current_setting('t.other')::uuid)::text, '');
SELECT is(
    (SELECT array_agg(c ->> 'id')
     FROM jsonb_array_elements(public.sync_pull()::jsonb -> 'changes') AS c),
    ARRAY['51000000-0000-0000-0000-000000000003'],
    'another user pulls only their own project');

-- Rows written by transactions the previous cycle already saw are not sent again.
SELECT coalesce(tests.clear_authentication()::text, '');
ALTER TABLE public.project_overview DISABLE TRIGGER t90_stamp_sync_row;
UPDATE public.project_overview SET sync_txid = '3'
WHERE project_id = '51000000-0000-0000-0000-000000000002';
ALTER TABLE public.project_overview ENABLE TRIGGER t90_stamp_sync_row;
SELECT coalesce(tests.authenticate_as(current_setting('t.owner')::uuid)::text, '');
SELECT is(
    (SELECT count(*) FROM jsonb_array_elements(public.sync_pull(
        translate(encode(convert_to(
            '{"v": 1, "since": "100:100:", "until": null, "after": null}', 'UTF8'), 'base64'),
            E'\n', ''))::jsonb -> 'changes') AS c
     WHERE c ->> 'id' = '51000000-0000-0000-0000-000000000002'),
    0::bigint, 'a row whose transaction the previous cycle saw is not pulled again');

SELECT throws_ok(
    $$SELECT public.sync_pull('not a cursor')$$,
    '22023', 'the sync cursor is not valid', 'a garbage cursor is invalid_input');
SELECT throws_ok(
    format('SELECT public.sync_pull(%L)', translate(encode(convert_to(
        '{"v": 1, "since": "banana", "until": null, "after": null}', 'UTF8'), 'base64'),
        E'\n', '')),
    '22023', 'the sync cursor is not valid', 'a cursor with a malformed snapshot is invalid_input');
SELECT throws_ok(
    format('SELECT public.sync_pull(%L)', translate(encode(convert_to(
        '{"v": 1, "since": null, "until": null, "after": {"txid": "5", "table": "app_users",
          "id": "51000000-0000-0000-0000-000000000001"}}', 'UTF8'), 'base64'), E'\n', '')),
    '22023', 'the sync cursor is not valid',
    'a cursor positioned outside a cycle or on an unsynced table is invalid_input');
SELECT throws_ok(
    $$SELECT public.sync_pull(NULL, 1001)$$,
    '22023', 'p_limit must be between 1 and 1000', 'a page larger than 1000 is invalid_input');

SELECT coalesce(tests.authenticate_as_anon()::text, '');
SELECT throws_ok(
    $$SELECT public.sync_pull()$$, '42501', NULL, 'anon cannot pull');

SELECT * FROM finish();
ROLLBACK;
