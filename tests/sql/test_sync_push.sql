-- Push: per-mutation outcomes, exactly-once replay, conflicts, RLS, batch validation.
SET LOCAL search_path = extensions, public;
SELECT plan(27);

SELECT '# setup ' || set_config('t.owner', tests.create_user('pusher@example.com')::text, true);
SELECT '# setup ' || set_config('t.other', tests.create_user('intruder@example.com')::text, true);
SELECT coalesce(tests.authenticate_as(current_setting('t.owner')::uuid)::text, '');

-- One batch: a screenplay, a mutation of an unknown table, a section of the screenplay.
SELECT '# setup ' || set_config('t.first', public.sync_push('5c000000-0000-0000-0000-000000000001', '[
    {"mutation_id": 1, "table": "screenplays", "op": "upsert",
     "id": "56000000-0000-0000-0000-000000000001", "base_version": null,
     "args": {"title": "Draft", "content": "FADE IN."}},
    {"mutation_id": 2, "table": "no_such_table", "op": "upsert",
     "id": "56000000-0000-0000-0000-000000000009", "args": {}},
    {"mutation_id": 3, "table": "screenplay_sections", "op": "upsert",
     "id": "57000000-0000-0000-0000-000000000001",
     "args": {"screenplay_id": "56000000-0000-0000-0000-000000000001",
              "heading": "INT. ROOM", "content": "Words.", "order_index": 0}}
]')::text, true);

SELECT is(
    (SELECT array_agg(r ->> 'outcome' ORDER BY (r ->> 'mutation_id')::bigint)
     FROM jsonb_array_elements(current_setting('t.first')::jsonb -> 'results') AS r),
    ARRAY['applied', 'rejected', 'applied'],
    'a rejected mutation does not stop the mutations after it');

SELECT is(
    current_setting('t.first')::jsonb -> 'results' -> 1 -> 'error' ->> 'code',
    'invalid_input', 'a mutation of an unknown table is rejected as invalid_input');

SELECT is(
    current_setting('t.first')::jsonb -> 'results' -> 0 -> 'row' ->> 'title',
    'Draft', 'an applied mutation returns the resulting row');

SELECT is(
    (SELECT count(*) FROM public.screenplay_sections
     WHERE screenplay_id = '56000000-0000-0000-0000-000000000001'),
    1::bigint, 'the mutations around a rejected one are applied');

-- A later mutation changes the title; then the first batch is replayed (lost acknowledgement).
SELECT '# setup ' || set_config('t.second', public.sync_push('5c000000-0000-0000-0000-000000000001', '[
    {"mutation_id": 4, "table": "screenplays", "op": "upsert",
     "id": "56000000-0000-0000-0000-000000000001", "base_version": 1,
     "args": {"title": "Second draft"}}
]')::text, true);
SELECT '# setup ' || set_config('t.replay', public.sync_push('5c000000-0000-0000-0000-000000000001', '[
    {"mutation_id": 1, "table": "screenplays", "op": "upsert",
     "id": "56000000-0000-0000-0000-000000000001", "base_version": null,
     "args": {"title": "Draft", "content": "FADE IN."}},
    {"mutation_id": 3, "table": "screenplay_sections", "op": "upsert",
     "id": "57000000-0000-0000-0000-000000000001",
     "args": {"screenplay_id": "56000000-0000-0000-0000-000000000001",
              "heading": "INT. ROOM", "content": "Words.", "order_index": 0}}
]')::text, true);

SELECT is(
    (SELECT array_agg(r ->> 'outcome') FROM
     jsonb_array_elements(current_setting('t.replay')::jsonb -> 'results') AS r),
    ARRAY['duplicate', 'duplicate'], 'a replayed batch answers duplicate for every applied mutation');

SELECT is(
    current_setting('t.replay')::jsonb -> 'results' -> 0 -> 'row',
    current_setting('t.first')::jsonb -> 'results' -> 0 -> 'row',
    'a duplicate carries the result recorded when the mutation was applied');

SELECT results_eq(
    $$SELECT title, version FROM public.screenplays
      WHERE id = '56000000-0000-0000-0000-000000000001'$$,
    $$VALUES ('Second draft', 2::bigint)$$,
    'a replayed mutation is not applied again (the later title stays)');

SELECT coalesce(tests.clear_authentication()::text, '');
SELECT is(
    (SELECT count(*) FROM private.sync_mutations
     WHERE client_id = '5c000000-0000-0000-0000-000000000001'),
    3::bigint, 'only applied mutations are recorded, once each');
SELECT coalesce(tests.authenticate_as(current_setting('t.owner')::uuid)::text, '');

-- Conflicts: the title changed in version 2; a write based on version 1 touches it.
SELECT '# setup ' || set_config('t.conflict', public.sync_push('5c000000-0000-0000-0000-000000000001', '[
    {"mutation_id": 5, "table": "screenplays", "op": "upsert",
     "id": "56000000-0000-0000-0000-000000000001", "base_version": 1,
     "args": {"title": "My draft"}},
    {"mutation_id": 6, "table": "screenplays", "op": "upsert",
     "id": "56000000-0000-0000-0000-000000000001", "base_version": 1,
     "args": {"content": "FADE OUT."}}
]')::text, true);

SELECT results_eq(
    $$SELECT r ->> 'outcome', r -> 'current' ->> 'title', r -> 'fields'
      FROM jsonb_array_elements(current_setting('t.conflict')::jsonb -> 'results') AS r
      WHERE (r ->> 'mutation_id')::int = 5$$,
    $$VALUES ('conflict', 'Second draft', '["title"]'::jsonb)$$,
    'an overlapping write is a conflict carrying the current server row and the fields');

SELECT results_eq(
    $$SELECT title, content FROM public.screenplays
      WHERE id = '56000000-0000-0000-0000-000000000001'$$,
    $$VALUES ('Second draft', 'FADE OUT.')$$,
    'a conflict changes nothing; a non-overlapping write on the same base merges');

SELECT coalesce(tests.clear_authentication()::text, '');
SELECT is(
    (SELECT count(*) FROM private.sync_mutations
     WHERE client_id = '5c000000-0000-0000-0000-000000000001' AND mutation_id = 5),
    0::bigint, 'a conflict is not recorded, so the client may retry it after resolving');

-- Another user: cannot touch the owner's rows, nor claim the owner's mutation ids.
SELECT coalesce(tests.authenticate_as(current_setting('t.other')::uuid)::text, '');
SELECT '# setup ' || set_config('t.intrusion', public.sync_push('5d000000-0000-0000-0000-000000000001', '[
    {"mutation_id": 1, "table": "screenplays", "op": "upsert",
     "id": "56000000-0000-0000-0000-000000000001",
     "args": {"title": "Mine now", "content": "Overwritten."}},
    {"mutation_id": 2, "table": "screenplays", "op": "delete",
     "id": "56000000-0000-0000-0000-000000000001"},
    {"mutation_id": 3, "table": "screenplay_sections", "op": "upsert",
     "id": "57000000-0000-0000-0000-000000000002",
     "args": {"screenplay_id": "56000000-0000-0000-0000-000000000001",
              "heading": "EXT.", "content": "Planted.", "order_index": 1}}
]')::text, true);

SELECT results_eq(
    $$SELECT r ->> 'outcome', r -> 'error' ->> 'code'
      FROM jsonb_array_elements(current_setting('t.intrusion')::jsonb -> 'results') AS r
      ORDER BY (r ->> 'mutation_id')::int$$,
    $$VALUES ('rejected', 'not_found'), ('rejected', 'not_found'), ('rejected', 'not_found')$$,
    'another user''s upsert, delete or section under the owner''s screenplay is not_found');

SELECT is(
    public.sync_push('5c000000-0000-0000-0000-000000000001', '[
        {"mutation_id": 1, "table": "screenplays", "op": "upsert",
         "id": "56000000-0000-0000-0000-000000000001", "args": {"title": "Draft"}}
    ]') -> 'results' -> 0 -> 'error' ->> 'code',
    'forbidden', 'a mutation id recorded for another user''s client is forbidden');

SELECT throws_ok(
    $$SELECT count(*) FROM private.sync_mutations$$,
    '42501', NULL, 'users cannot read the mutation log directly');

SELECT coalesce(tests.clear_authentication()::text, '');
SELECT results_eq(
    $$SELECT title, version, deleted_at IS NULL FROM public.screenplays
      WHERE id = '56000000-0000-0000-0000-000000000001'$$,
    $$VALUES ('Second draft', 3::bigint, true)$$,
    'the owner''s screenplay is untouched by the other user''s pushes');

-- Deletes are tombstones, and they take the screenplay's sections with them.
SELECT coalesce(tests.authenticate_as(current_setting('t.owner')::uuid)::text, '');
SELECT is(
    public.sync_push('5c000000-0000-0000-0000-000000000001', '[
        {"mutation_id": 10, "table": "screenplays", "op": "delete",
         "id": "56000000-0000-0000-0000-000000000001"}
    ]') -> 'results' -> 0 -> 'row' ->> 'deleted_at' IS NOT NULL,
    true, 'deleting a screenplay leaves a tombstone');
SELECT is(
    (SELECT count(*) FROM public.screenplay_sections
     WHERE screenplay_id = '56000000-0000-0000-0000-000000000001' AND deleted_at IS NULL),
    0::bigint, 'deleting a screenplay tombstones its sections');

SELECT is(
    public.sync_push('5c000000-0000-0000-0000-000000000001', '[
        {"mutation_id": 11, "table": "screenplays", "op": "explode",
         "id": "56000000-0000-0000-0000-000000000001"}
    ]') -> 'results' -> 0 -> 'error' ->> 'code',
    'invalid_input', 'an unknown op is rejected as invalid_input');

SELECT throws_ok(
    $$SELECT public.sync_push('5c000000-0000-0000-0000-000000000001', '{"not": "an array"}')$$,
    '22023', NULL, 'a batch that is not an array is invalid_input');
SELECT throws_ok(
    $$SELECT public.sync_push('5c000000-0000-0000-0000-000000000001',
        (SELECT jsonb_agg(jsonb_build_object('mutation_id', g, 'table', 'screenplays',
                                             'op', 'delete', 'id', gen_random_uuid()))
         FROM generate_series(100, 600) AS g))$$,
    '22023', 'at most 500 mutations per push', 'a batch of more than 500 mutations is refused');
SELECT throws_ok(
    $$SELECT public.sync_push('5c000000-0000-0000-0000-000000000001', '[
        {"mutation_id": 21, "table": "screenplays", "op": "delete",
         "id": "56000000-0000-0000-0000-000000000001"},
        {"mutation_id": 20, "table": "screenplays", "op": "delete",
         "id": "56000000-0000-0000-0000-000000000001"}]')$$,
    '22023', 'mutation ids must be non-negative and strictly increasing',
    'mutation ids must increase within a batch');

-- Mutations of the other tables go through their contract functions, rules included.
SELECT coalesce(tests.authenticate_as(current_setting('t.owner')::uuid)::text, '');
SELECT '# setup ' || set_config('t.film', public.sync_push('5c000000-0000-0000-0000-000000000002', '[
    {"mutation_id": 1, "table": "project_overview", "op": "upsert",
     "id": "58000000-0000-0000-0000-000000000001", "args": {"title": "Film"}},
    {"mutation_id": 2, "table": "scene_drafts", "op": "create",
     "id": "59000000-0000-0000-0000-000000000001",
     "args": {"project_id": "58000000-0000-0000-0000-000000000001",
              "prompt_text": "Opening", "duration": 4}},
    {"mutation_id": 3, "table": "scene_drafts", "op": "update",
     "id": "59000000-0000-0000-0000-000000000001", "base_version": 1,
     "args": {"patch": {"prompt_text": "Opening, revised"}}},
    {"mutation_id": 4, "table": "scene_drafts", "op": "update",
     "id": "59000000-0000-0000-0000-000000000001", "base_version": 1,
     "args": {"patch": {"prompt_text": "Opening, my way"}}},
    {"mutation_id": 5, "table": "clip_jobs", "op": "enqueue",
     "id": "5a000000-0000-0000-0000-000000000001",
     "args": {"prompt": "Opening", "scene_draft_id": "59000000-0000-0000-0000-000000000001"}},
    {"mutation_id": 6, "table": "continuity_logs", "op": "resolve_conflict",
     "id": "5b000000-0000-0000-0000-000000000001",
     "args": {"table": "scene_drafts", "row_id": "59000000-0000-0000-0000-000000000001",
              "resolution": "keep_remote", "fields": ["prompt_text"]}}
]')::text, true);

SELECT is(
    (SELECT array_agg(r ->> 'outcome' ORDER BY (r ->> 'mutation_id')::int)
     FROM jsonb_array_elements(current_setting('t.film')::jsonb -> 'results') AS r),
    ARRAY['applied', 'applied', 'applied', 'conflict', 'applied', 'applied'],
    'project, scene, update, clip and resolution mutations reach their contract functions');

SELECT results_eq(
    $$SELECT r -> 'current' ->> 'prompt_text', r -> 'fields'
      FROM jsonb_array_elements(current_setting('t.film')::jsonb -> 'results') AS r
      WHERE (r ->> 'mutation_id')::int = 4$$,
    $$VALUES ('Opening, revised', '["prompt_text"]'::jsonb)$$,
    'a version_conflict from update_scene_draft becomes a conflict with the current scene');

SELECT is(
    (SELECT count(*) FROM public.continuity_logs
     WHERE kind = 'conflict_resolution'
       AND scene_draft_id = '59000000-0000-0000-0000-000000000001'),
    1::bigint, 'a pushed conflict resolution is recorded in continuity_logs');

SELECT is(
    public.sync_push('5c000000-0000-0000-0000-000000000002', '[
        {"mutation_id": 5, "table": "clip_jobs", "op": "enqueue",
         "id": "5a000000-0000-0000-0000-000000000001",
         "args": {"prompt": "Opening",
                  "scene_draft_id": "59000000-0000-0000-0000-000000000001"}}
    ]') -> 'results' -> 0 ->> 'outcome',
    'duplicate', 'a replayed enqueue answers duplicate');

SELECT results_eq(
    $$SELECT first_clip_consumed, credits,
             (SELECT count(*) FROM public.credit_transactions AS t
              WHERE t.user_key = l.user_key)
      FROM public.credits_ledger AS l WHERE l.user_key = current_setting('t.owner')$$,
    $$VALUES (true, 0, 1::bigint)$$,
    'the replayed enqueue charged nothing more: one free first clip, one transaction');

SELECT coalesce(tests.authenticate_as_anon()::text, '');
SELECT throws_ok(
    $$SELECT public.sync_push('5c000000-0000-0000-0000-000000000001', '[]')$$,
    '42501', NULL, 'anon cannot push');

SELECT * FROM finish();
ROLLBACK;
