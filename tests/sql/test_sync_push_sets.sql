-- Set-based push: a batch applied in waves of (table, op) groups keeps every per-mutation
-- outcome, its order, exactly-once replay and sends one hint per user per transaction.
SET LOCAL search_path = extensions, public;
SELECT plan(19);

SELECT '# setup ' || set_config('t.owner', tests.create_user('sets@example.com')::text, true);
SELECT coalesce(tests.authenticate_as(current_setting('t.owner')::uuid)::text, '');

-- A project, six scenes (the fourth with an invalid duration), an edit of the first scene
-- rebased on its create, a reorder of the five live scenes and a delete.
SELECT '# setup ' || set_config('t.batch', (
    SELECT jsonb_agg(m ORDER BY n)::text FROM (
        SELECT 1 AS n, jsonb_build_object('mutation_id', 1, 'table', 'project_overview',
            'op', 'upsert', 'id', '5e000000-0000-0000-0000-000000000001',
            'args', jsonb_build_object('title', 'Sets')) AS m
        UNION ALL
        SELECT 1 + k AS n, jsonb_build_object('mutation_id', 1 + k, 'table', 'scene_drafts',
            'op', 'create', 'id', '5f000000-0000-0000-0000-00000000000' || k,
            'args', jsonb_build_object('project_id', '5e000000-0000-0000-0000-000000000001',
                'prompt_text', 'Scene ' || k, 'duration', CASE WHEN k = 4 THEN -1 ELSE 2 END)) AS m
        FROM generate_series(1, 6) AS k
        UNION ALL
        SELECT 8 AS n, '{"mutation_id": 8, "table": "scene_drafts", "op": "update",
            "id": "5f000000-0000-0000-0000-000000000001", "base_mutation_id": 2,
            "args": {"patch": {"prompt_text": "Edited"}}}'::jsonb AS m
        UNION ALL
        SELECT 9 AS n, '{"mutation_id": 9, "table": "scene_drafts", "op": "reorder",
            "id": "5e000000-0000-0000-0000-000000000001",
            "args": {"ordered_ids": ["5f000000-0000-0000-0000-000000000006",
                                     "5f000000-0000-0000-0000-000000000005",
                                     "5f000000-0000-0000-0000-000000000003",
                                     "5f000000-0000-0000-0000-000000000002",
                                     "5f000000-0000-0000-0000-000000000001"]}}'::jsonb AS m
        UNION ALL
        SELECT 10 AS n, '{"mutation_id": 10, "table": "scene_drafts", "op": "delete",
            "id": "5f000000-0000-0000-0000-000000000006"}'::jsonb AS m
    ) AS b), true);

SELECT is(
    (SELECT max((e ->> 'wave')::int) FROM jsonb_array_elements(private.sync_plan_batch(
        '5c000000-0000-0000-0000-0000000000aa', current_setting('t.batch')::jsonb)) AS e),
    2, 'creates, an edit and a reorder of one project share a wave; the delete after the '
       'reorder waits for the next');

SELECT '# setup ' || set_config('t.first', public.sync_push(
    '5c000000-0000-0000-0000-0000000000aa', current_setting('t.batch')::jsonb)::text, true);

SELECT is(
    (SELECT array_agg((r ->> 'mutation_id')::int ORDER BY n)
     FROM jsonb_array_elements(current_setting('t.first')::jsonb -> 'results')
         WITH ORDINALITY AS x (r, n)),
    ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'results come in the order of the batch');

SELECT is(
    (SELECT array_agg(r ->> 'outcome' ORDER BY (r ->> 'mutation_id')::int)
     FROM jsonb_array_elements(current_setting('t.first')::jsonb -> 'results') AS r),
    ARRAY['applied', 'applied', 'applied', 'applied', 'rejected', 'applied', 'applied',
          'applied', 'applied', 'applied'],
    'one bad mutation in a set is rejected and the rest of the batch applies');

SELECT is(
    current_setting('t.first')::jsonb -> 'results' -> 4 -> 'error' ->> 'code',
    'invalid_input', 'the bad mutation gets the contract function''s error code');

SELECT is(
    (SELECT count(*) FROM public.scene_drafts WHERE id = '5f000000-0000-0000-0000-000000000004'),
    0::bigint, 'the bad mutation changed nothing');

SELECT results_eq(
    $$SELECT r -> 'row' ->> 'id', (r -> 'row' ->> 'order_index')::int
      FROM jsonb_array_elements(current_setting('t.first')::jsonb -> 'results') AS r
      WHERE (r ->> 'mutation_id')::int BETWEEN 2 AND 7 AND r ->> 'outcome' = 'applied'
      ORDER BY (r ->> 'mutation_id')::int$$,
    $$VALUES ('5f000000-0000-0000-0000-000000000001', 0), ('5f000000-0000-0000-0000-000000000002', 1),
             ('5f000000-0000-0000-0000-000000000003', 2), ('5f000000-0000-0000-0000-000000000005', 3),
             ('5f000000-0000-0000-0000-000000000006', 4)$$,
    'creates at the end are numbered in batch order');

SELECT results_eq(
    $$SELECT r -> 'row' ->> 'prompt_text', (r -> 'row' ->> 'version')::int
      FROM jsonb_array_elements(current_setting('t.first')::jsonb -> 'results') AS r
      WHERE (r ->> 'mutation_id')::int = 8$$,
    $$VALUES ('Edited', 2)$$,
    'an edit rebased on its create in the same batch applies without a conflict');

SELECT results_eq(
    $$SELECT id::text, order_index, deleted_at IS NOT NULL FROM public.scene_drafts
      WHERE project_id = '5e000000-0000-0000-0000-000000000001' ORDER BY order_index$$,
    $$VALUES ('5f000000-0000-0000-0000-000000000006', 0, true),
             ('5f000000-0000-0000-0000-000000000005', 1, false),
             ('5f000000-0000-0000-0000-000000000003', 2, false),
             ('5f000000-0000-0000-0000-000000000002', 3, false),
             ('5f000000-0000-0000-0000-000000000001', 4, false)$$,
    'the reorder saw the creates before it and the delete came after it');

SELECT results_eq(
    $$SELECT scene_count, total_duration FROM public.project_overview
      WHERE project_id = '5e000000-0000-0000-0000-000000000001'$$,
    $$VALUES (4::bigint, 8::double precision)$$,
    'the project totals count the live scenes after the batch');

SELECT is(
    jsonb_array_length(current_setting('t.first')::jsonb -> 'results' -> 8 -> 'rows'),
    5, 'a reorder answers the project''s scenes in their new order');

-- Replay after a lost acknowledgement.
SELECT '# setup ' || set_config('t.replay', public.sync_push(
    '5c000000-0000-0000-0000-0000000000aa', current_setting('t.batch')::jsonb)::text, true);

SELECT is(
    (SELECT array_agg(r ->> 'outcome' ORDER BY (r ->> 'mutation_id')::int)
     FROM jsonb_array_elements(current_setting('t.replay')::jsonb -> 'results') AS r),
    ARRAY['duplicate', 'duplicate', 'duplicate', 'duplicate', 'rejected', 'duplicate',
          'duplicate', 'duplicate', 'duplicate', 'duplicate'],
    'a replay answers duplicate for every applied mutation (a rejected one is tried again)');

SELECT is(
    (SELECT count(*) FROM jsonb_array_elements(current_setting('t.replay')::jsonb -> 'results')
         WITH ORDINALITY AS x (r, n)
     WHERE r ->> 'outcome' = 'duplicate'
       AND r - 'outcome' = (current_setting('t.first')::jsonb -> 'results' -> (n::int - 1))
           - 'outcome'),
    9::bigint, 'every duplicate carries exactly the result recorded when it was applied');

SELECT is(
    (SELECT version FROM public.scene_drafts WHERE id = '5f000000-0000-0000-0000-000000000001'),
    3::bigint, 'the replay applied nothing again (only the reorder and edit versions)');

-- Ordering across groups: a scene created before its project exists is not_found.
SELECT is(
    (SELECT array_agg(r ->> 'outcome' ORDER BY (r ->> 'mutation_id')::int)
     FROM jsonb_array_elements(public.sync_push('5c000000-0000-0000-0000-0000000000aa', '[
        {"mutation_id": 20, "table": "scene_drafts", "op": "create",
         "id": "5f000000-0000-0000-0000-000000000020",
         "args": {"project_id": "5e000000-0000-0000-0000-000000000020",
                  "prompt_text": "Too early", "duration": 1}},
        {"mutation_id": 21, "table": "project_overview", "op": "upsert",
         "id": "5e000000-0000-0000-0000-000000000020", "args": {"title": "Late"}}
     ]') -> 'results') AS r),
    ARRAY['rejected', 'applied'], 'a mutation never sees the effect of a later one');

-- Creates at given indexes (as a client numbers its new scenes): those at the end are one set;
-- from the first one before the end, its project's creates apply one at a time, in order.
SELECT '# setup ' || set_config('t.indexed', (
    SELECT jsonb_agg(m ORDER BY n)::text FROM (
        SELECT 0 AS n, jsonb_build_object('mutation_id', 30, 'table', 'project_overview',
            'op', 'upsert', 'id', '5e000000-0000-0000-0000-000000000030',
            'args', jsonb_build_object('title', 'Indexed')) AS m
        UNION ALL
        SELECT k AS n, jsonb_build_object('mutation_id', 30 + k, 'table', 'scene_drafts',
            'op', 'create', 'id', '5f000000-0000-0000-0000-00000000003' || k,
            'args', jsonb_build_object('project_id', '5e000000-0000-0000-0000-000000000030',
                'prompt_text', 'Scene ' || k, 'duration', 2,
                'order_index', ('{0, 1, 2, 0, 10}'::int [])[k])) AS m
        FROM generate_series(1, 5) AS k
    ) AS b), true);

SELECT is(
    (SELECT max((e ->> 'wave')::int) FROM jsonb_array_elements(
        private.sync_plan_batch('5c000000-0000-0000-0000-0000000000aa',
            current_setting('t.indexed')::jsonb)) AS e),
    1, 'a project and its creates at given indexes share one wave');

SELECT '# setup ' || set_config('t.indexed_result', public.sync_push(
    '5c000000-0000-0000-0000-0000000000aa', current_setting('t.indexed')::jsonb)::text, true);

SELECT results_eq(
    $$SELECT r ->> 'outcome', (r -> 'row' ->> 'order_index')::int
      FROM jsonb_array_elements(current_setting('t.indexed_result')::jsonb -> 'results')
          WITH ORDINALITY AS x (r, n)
      WHERE n > 1 ORDER BY n$$,
    $$VALUES ('applied', 0), ('applied', 1), ('applied', 2), ('applied', 0), ('applied', 4)$$,
    'creates at the end take their indexes, one before the end takes its own, one past the end '
    'goes to the end');

SELECT results_eq(
    $$SELECT id::text, order_index FROM public.scene_drafts
      WHERE project_id = '5e000000-0000-0000-0000-000000000030' ORDER BY order_index$$,
    $$VALUES ('5f000000-0000-0000-0000-000000000034', 0), ('5f000000-0000-0000-0000-000000000031', 1),
             ('5f000000-0000-0000-0000-000000000032', 2), ('5f000000-0000-0000-0000-000000000033', 3),
             ('5f000000-0000-0000-0000-000000000035', 4)$$,
    'a create before the end shifted the scenes after it, as one at a time would');

-- Hints: one per user for the whole transaction, naming its first changed row.
SELECT coalesce(tests.clear_authentication()::text, '');
SELECT is(
    (SELECT count(*) FROM realtime.messages
     WHERE topic = 'user:' || current_setting('t.owner')),
    1::bigint, 'pushing batches of many mutations in one transaction sends one hint to the user');

SELECT is(
    (SELECT payload ->> 'id' FROM realtime.messages
     WHERE topic = 'user:' || current_setting('t.owner')),
    '5e000000-0000-0000-0000-000000000001', 'the hint names the transaction''s first changed row');

SELECT * FROM finish();
ROLLBACK;
