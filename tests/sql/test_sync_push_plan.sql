-- Push planning: each mutation of a batch gets its rank and wave, or its recorded result.
SET LOCAL search_path = extensions, public;
SELECT plan(4);

SELECT '# setup ' || set_config('t.owner', tests.create_user('plan@example.com')::text, true);
SELECT coalesce(tests.authenticate_as(current_setting('t.owner')::uuid)::text, '');

-- A project, two scenes, an edit rebased on the first create, a reorder, a delete, a mutation
-- the planner cannot reason about (a barrier) and a rename after it.
SELECT '# setup ' || set_config('t.batch', $$[
    {"mutation_id": 1, "table": "project_overview", "op": "upsert",
     "id": "6e000000-0000-0000-0000-000000000001", "args": {"title": "Plan"}},
    {"mutation_id": 2, "table": "scene_drafts", "op": "create",
     "id": "6f000000-0000-0000-0000-000000000001",
     "args": {"project_id": "6e000000-0000-0000-0000-000000000001", "prompt_text": "One",
              "duration": 2}},
    {"mutation_id": 3, "table": "scene_drafts", "op": "create",
     "id": "6f000000-0000-0000-0000-000000000002",
     "args": {"project_id": "6e000000-0000-0000-0000-000000000001", "prompt_text": "Two",
              "duration": 2}},
    {"mutation_id": 4, "table": "scene_drafts", "op": "update",
     "id": "6f000000-0000-0000-0000-000000000001", "base_mutation_id": 2,
     "args": {"patch": {"prompt_text": "Edited"}}},
    {"mutation_id": 5, "table": "scene_drafts", "op": "reorder",
     "id": "6e000000-0000-0000-0000-000000000001",
     "args": {"ordered_ids": ["6f000000-0000-0000-0000-000000000002",
                              "6f000000-0000-0000-0000-000000000001"]}},
    {"mutation_id": 6, "table": "scene_drafts", "op": "delete",
     "id": "6f000000-0000-0000-0000-000000000002"},
    {"mutation_id": 7, "table": "screenplays", "op": "upsert",
     "id": "6d000000-0000-0000-0000-000000000001", "args": {"title": "Script"}},
    {"mutation_id": 8, "table": "project_overview", "op": "rename",
     "id": "6e000000-0000-0000-0000-000000000001", "base_version": 1,
     "args": {"title": "Renamed"}}
]$$, true);

SELECT results_eq(
    $$SELECT ord, rank, wave, result IS NULL FROM private.sync_plan_waves(
        '6c000000-0000-0000-0000-0000000000aa', current_setting('t.batch')::jsonb) ORDER BY ord$$,
    $$VALUES (1, 10, 1, true), (2, 40, 1, true), (3, 40, 1, true), (4, 50, 1, true),
             (5, 70, 1, true), (6, 60, 2, true), (7, 90, 3, true), (8, 20, 4, true)$$,
    'the kinds of one project share a wave in rank order, a delete after the reorder waits for '
    'the next, a barrier has a wave of its own and what follows it comes later');

SELECT '# setup ' || public.sync_push(
    '6c000000-0000-0000-0000-0000000000aa', current_setting('t.batch')::jsonb)::text;

SELECT results_eq(
    $$SELECT ord, wave IS NULL, result ->> 'outcome' FROM private.sync_plan_waves(
        '6c000000-0000-0000-0000-0000000000aa', current_setting('t.batch')::jsonb)
      WHERE ord IN (1, 2, 3, 4) ORDER BY ord$$,
    $$VALUES (1, true, 'duplicate'), (2, true, 'duplicate'), (3, true, 'duplicate'),
             (4, false, NULL)$$,
    'a mutation recorded before is answered from its record and gets no wave; one naming a '
    'base mutation is planned again, to be answered on its own');

SELECT ok(
    (SELECT array_position(p.proconfig, 'plan_cache_mode=force_generic_plan') IS NOT NULL
     FROM pg_proc AS p
     WHERE p.oid = 'private.sync_push_batch(uuid, jsonb)'::regprocedure),
    'the statements of a batch run on plans made once per session');

SELECT ok(
    (SELECT array_position(p.proconfig, 'plan_cache_mode=force_generic_plan') IS NULL
     FROM pg_proc AS p WHERE p.oid = 'public.sync_push(uuid, jsonb)'::regprocedure),
    'a single mutation is planned as any call of its contract function is');

SELECT * FROM finish();
ROLLBACK;
