-- The scene draft contract functions: list, create, update, reorder and soft delete.
-- Runs in one transaction that is rolled back.
SET LOCAL search_path = extensions, public;
SELECT plan(66);

SELECT set_config('t.owner', tests.create_user('scenes@example.com')::text, true);
SELECT set_config('t.other', tests.create_user('neighbour@example.com')::text, true);

-- The other user's project and scene, which the owner must never see or change.
SELECT 'switched role' AS step FROM tests.authenticate_as(current_setting('t.other')::uuid);
SELECT public.upsert_project_overview('55555555-0000-0000-0000-000000000001', 'Theirs');
SELECT public.create_scene_draft(
    '66666666-0000-0000-0000-000000000001', '55555555-0000-0000-0000-000000000001',
    'Their scene', 5);

SELECT 'switched role' AS step FROM tests.authenticate_as(current_setting('t.owner')::uuid);
SELECT public.upsert_project_overview('44444444-0000-0000-0000-000000000001', 'Feature');

-- Create ---------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT order_index, version, prompt_text, duration, archived
      FROM public.create_scene_draft('77777777-0000-0000-0000-000000000001',
                                     '44444444-0000-0000-0000-000000000001', 'Dawn', 4)$$,
    $$VALUES (0, 1::bigint, 'Dawn', 4::double precision, false)$$,
    'the first scene of a project gets order_index 0 and version 1');

SELECT public.create_scene_draft(
    '77777777-0000-0000-0000-000000000002', '44444444-0000-0000-0000-000000000001', 'Noon', 3);

SELECT is(
    (SELECT order_index FROM public.create_scene_draft(
        '77777777-0000-0000-0000-000000000003', '44444444-0000-0000-0000-000000000001',
        'Dusk', 2, 'exterior', 'wide')),
    2, 'a scene without an order index is appended at the end');

SELECT results_eq(
    $$SELECT order_index, version FROM public.create_scene_draft(
        '77777777-0000-0000-0000-000000000002', '44444444-0000-0000-0000-000000000001',
        'Noon', 3)$$,
    $$VALUES (1, 1::bigint)$$,
    'replaying a create returns the same scene unchanged');

SELECT is(
    tests.error_of($$SELECT public.create_scene_draft(
        '77777777-0000-0000-0000-000000000002', '44444444-0000-0000-0000-000000000001',
        'Midnight', 3)$$) ->> 'code',
    'id_conflict', 'reusing a scene id for different content is an id conflict');

SELECT is(
    tests.error_of($$SELECT public.create_scene_draft(
        '66666666-0000-0000-0000-000000000001', '44444444-0000-0000-0000-000000000001',
        'Their scene', 5)$$),
    '{"sqlstate": "PT409", "code": "id_conflict", "detail": null}'::jsonb,
    'an id taken by another user''s scene is an id conflict that reveals nothing');

SELECT is(
    tests.error_of($$SELECT public.create_scene_draft(
        '77777777-0000-0000-0000-000000000009', '55555555-0000-0000-0000-000000000001',
        'Intruder', 5)$$) ->> 'code',
    'not_found', 'creating a scene in another user''s project is not found');

SELECT is(
    tests.error_of($$SELECT public.create_scene_draft(
        '77777777-0000-0000-0000-000000000009', '44444444-0000-0000-0000-00000000dead',
        'Nowhere', 5)$$) ->> 'code',
    'not_found', 'creating a scene in a missing project is not found');

SELECT is(
    tests.error_of($$SELECT public.create_scene_draft(
        '77777777-0000-0000-0000-000000000009', '44444444-0000-0000-0000-000000000001',
        'Still', 0)$$) ->> 'code',
    'invalid_input', 'a duration of 0 is invalid input');

SELECT is(
    tests.error_of($$SELECT public.create_scene_draft(
        '77777777-0000-0000-0000-000000000009', '44444444-0000-0000-0000-000000000001',
        'Epic', 600.5)$$) ->> 'code',
    'invalid_input', 'a duration over 600 seconds is invalid input');

SELECT is(
    tests.error_of($$SELECT public.create_scene_draft(
        '77777777-0000-0000-0000-000000000009', '44444444-0000-0000-0000-000000000001',
        'Odd', 'NaN')$$) ->> 'code',
    'invalid_input', 'a duration that is not a number is invalid input');

SELECT is(
    tests.error_of(format('SELECT public.create_scene_draft(%L, %L, %L, 5)',
        '77777777-0000-0000-0000-000000000009', '44444444-0000-0000-0000-000000000001',
        repeat('p', 10001))) ->> 'code',
    'invalid_input', 'a prompt over 10000 characters is invalid input');

SELECT is(
    tests.error_of(format('SELECT public.create_scene_draft(%L, %L, %L, 5, %L)',
        '77777777-0000-0000-0000-000000000009', '44444444-0000-0000-0000-000000000001',
        'Typed', repeat('t', 101))) ->> 'code',
    'invalid_input', 'a scene type over 100 characters is invalid input');

SELECT is(
    tests.error_of($$SELECT public.create_scene_draft(
        '77777777-0000-0000-0000-000000000009', '44444444-0000-0000-0000-000000000001',
        NULL, 5)$$) ->> 'code',
    'invalid_input', 'a scene needs a prompt');

SELECT is(
    tests.error_of($$SELECT public.create_scene_draft(
        '77777777-0000-0000-0000-000000000009', '44444444-0000-0000-0000-000000000001',
        'Before', 5, NULL, NULL, -1)$$) ->> 'code',
    'invalid_input', 'a negative order index is invalid input');

SELECT results_eq(
    $$SELECT count(*), max(version) FROM public.scene_drafts
      WHERE user_id = current_setting('t.owner')::uuid$$,
    $$VALUES (3::bigint, 1::bigint)$$,
    'refused creates write nothing');

SELECT is(
    (SELECT order_index FROM public.create_scene_draft(
        '77777777-0000-0000-0000-000000000004', '44444444-0000-0000-0000-000000000001',
        'Morning', 1, NULL, NULL, 1)),
    1, 'a scene created at an order index takes that place');

-- List -----------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT id::text, order_index FROM public.list_scene_drafts(
        '44444444-0000-0000-0000-000000000001')$$,
    $$VALUES ('77777777-0000-0000-0000-000000000001', 0),
             ('77777777-0000-0000-0000-000000000004', 1),
             ('77777777-0000-0000-0000-000000000002', 2),
             ('77777777-0000-0000-0000-000000000003', 3)$$,
    'later scenes shift down when a scene is inserted, and the list is in order');

SELECT results_eq(
    $$SELECT scene_count, total_duration FROM public.project_overview
      WHERE project_id = '44444444-0000-0000-0000-000000000001'$$,
    $$VALUES (4::bigint, 10::double precision)$$,
    'creating scenes maintains the project totals');

SELECT is(
    tests.error_of($$SELECT public.list_scene_drafts(
        '55555555-0000-0000-0000-000000000001')$$) ->> 'code',
    'not_found', 'listing the scenes of another user''s project is not found');

SELECT is(
    tests.error_of($$SELECT public.list_scene_drafts(
        '44444444-0000-0000-0000-00000000dead')$$) ->> 'code',
    'not_found', 'listing the scenes of a missing project is not found');

-- Archived and deleted projects ------------------------------------------------------------------
SELECT public.upsert_project_overview('44444444-0000-0000-0000-000000000002', 'Shelved');
SELECT public.archive_project('44444444-0000-0000-0000-000000000002');
SELECT public.upsert_project_overview('44444444-0000-0000-0000-000000000003', 'Binned');
SELECT public.create_scene_draft(
    '77777777-0000-0000-0000-000000000030', '44444444-0000-0000-0000-000000000003', 'Lost', 2);

SELECT 'switched role' AS step FROM tests.clear_authentication();
UPDATE public.project_overview SET deleted_at = now()
WHERE project_id = '44444444-0000-0000-0000-000000000003';
SELECT 'switched role' AS step FROM tests.authenticate_as(current_setting('t.owner')::uuid);

SELECT is(
    (SELECT prompt_text FROM public.create_scene_draft(
        '77777777-0000-0000-0000-000000000020', '44444444-0000-0000-0000-000000000002',
        'Kept', 2)),
    'Kept', 'an archived project still takes new scenes');

SELECT is(
    tests.error_of($$SELECT public.create_scene_draft(
        '77777777-0000-0000-0000-000000000031', '44444444-0000-0000-0000-000000000003',
        'Late', 2)$$) ->> 'code',
    'not_found', 'creating a scene in a deleted project is not found');

SELECT is(
    tests.error_of($$SELECT public.list_scene_drafts(
        '44444444-0000-0000-0000-000000000003')$$) ->> 'code',
    'not_found', 'listing the scenes of a deleted project is not found');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '77777777-0000-0000-0000-000000000030', 1, '{"prompt_text": "Found"}')$$) ->> 'code',
    'not_found', 'updating a scene of a deleted project is not found');

-- Update ---------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT prompt_text, version, field_versions FROM public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 1, '{"prompt_text": "Sunrise"}')$$,
    $$VALUES ('Sunrise', 2::bigint, '{"prompt_text": 2}'::jsonb)$$,
    'an update from the current version applies the patch and records the field version');

SELECT is(
    (SELECT version FROM public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 1, '{"prompt_text": "Sunrise"}')),
    2::bigint, 'replaying an update changes nothing');

SELECT results_eq(
    $$SELECT prompt_text, duration, version FROM public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 1, '{"duration": 6.5}')$$,
    $$VALUES ('Sunrise', 6.5::double precision, 3::bigint)$$,
    'a stale update of a field nobody else changed merges with the newer change');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 1,
        '{"prompt_text": "Sunset", "scene_type": "interior"}')$$),
    jsonb_build_object(
        'sqlstate', 'PT409', 'code', 'version_conflict',
        'detail', jsonb_build_object(
            'current', (SELECT to_jsonb(s) FROM public.scene_drafts AS s
                        WHERE id = '77777777-0000-0000-0000-000000000001'),
            'fields', '["prompt_text"]'::jsonb)),
    'a stale update of a field changed since to another value is a conflict with the current row');

SELECT results_eq(
    $$SELECT prompt_text, scene_type, version FROM public.scene_drafts
      WHERE id = '77777777-0000-0000-0000-000000000001'$$,
    $$VALUES ('Sunrise', NULL::text, 3::bigint)$$,
    'a conflicting update writes none of its fields');

SELECT is(
    (SELECT version FROM public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 1, '{"prompt_text": "Sunrise"}')),
    3::bigint, 'a stale update to the value the field already has is no conflict and no write');

SELECT results_eq(
    $$SELECT scene_type, shot_type FROM public.update_scene_draft(
        '77777777-0000-0000-0000-000000000003', 1, '{"scene_type": null, "shot_type": "close"}')$$,
    $$VALUES (NULL::text, 'close')$$,
    'scene and shot type can be set and cleared');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 9, '{"prompt_text": "Future"}')$$) ->> 'code',
    'invalid_input', 'a base version newer than the scene is invalid input');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 3, '{"order_index": 7}')$$),
    '{"sqlstate": "22023", "code": "invalid_input", "detail": {"fields": ["order_index"]}}'::jsonb,
    'a patch key that is not an editable field is invalid input');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 3, '{"duration": "5"}')$$) ->> 'code',
    'invalid_input', 'a duration given as text is invalid input');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 3, '{"duration": 0}')$$) ->> 'code',
    'invalid_input', 'a patched duration of 0 is invalid input');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 3, '{"prompt_text": null}')$$) ->> 'code',
    'invalid_input', 'a prompt cannot be cleared');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '77777777-0000-0000-0000-000000000001', 3, '["prompt_text"]')$$) ->> 'code',
    'invalid_input', 'a patch that is not an object is invalid input');

SELECT is(
    (SELECT version FROM public.scene_drafts WHERE id = '77777777-0000-0000-0000-000000000001'),
    3::bigint, 'invalid updates write nothing');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '66666666-0000-0000-0000-000000000001', 1, '{"prompt_text": "Mine"}')$$) ->> 'code',
    'not_found', 'updating another user''s scene is not found');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '77777777-0000-0000-0000-00000000dead', 1, '{"prompt_text": "Ghost"}')$$) ->> 'code',
    'not_found', 'updating a missing scene is not found');

SELECT is(
    (SELECT total_duration FROM public.project_overview
     WHERE project_id = '44444444-0000-0000-0000-000000000001'),
    12.5::double precision, 'updating a duration maintains the project total');

-- Reorder --------------------------------------------------------------------------------------
SELECT set_config('t.versions', (
    SELECT jsonb_object_agg(id, version)::text FROM public.scene_drafts
    WHERE project_id = '44444444-0000-0000-0000-000000000001'), true);

SELECT results_eq(
    $$SELECT id::text, order_index FROM public.reorder_scene_drafts(
        '44444444-0000-0000-0000-000000000001',
        ARRAY['77777777-0000-0000-0000-000000000003', '77777777-0000-0000-0000-000000000004',
              '77777777-0000-0000-0000-000000000002', '77777777-0000-0000-0000-000000000001'
        ]::uuid[])$$,
    $$VALUES ('77777777-0000-0000-0000-000000000003', 0),
             ('77777777-0000-0000-0000-000000000004', 1),
             ('77777777-0000-0000-0000-000000000002', 2),
             ('77777777-0000-0000-0000-000000000001', 3)$$,
    'a reorder gives the scenes order_index 0..n-1 in the given order');

SELECT is(
    (SELECT version FROM public.scene_drafts WHERE id = '77777777-0000-0000-0000-000000000004'),
    (current_setting('t.versions')::jsonb ->> '77777777-0000-0000-0000-000000000004')::bigint,
    'a scene that keeps its place keeps its version');

SELECT set_config('t.versions', (
    SELECT jsonb_object_agg(id, version)::text FROM public.scene_drafts
    WHERE project_id = '44444444-0000-0000-0000-000000000001'), true);

SELECT is(
    (SELECT jsonb_object_agg(id, version) FROM public.reorder_scene_drafts(
        '44444444-0000-0000-0000-000000000001',
        ARRAY['77777777-0000-0000-0000-000000000003', '77777777-0000-0000-0000-000000000004',
              '77777777-0000-0000-0000-000000000002', '77777777-0000-0000-0000-000000000001'
        ]::uuid[])),
    current_setting('t.versions')::jsonb, 'replaying a reorder changes nothing');

SELECT is(
    tests.error_of($$SELECT public.reorder_scene_drafts(
        '44444444-0000-0000-0000-000000000001',
        ARRAY['77777777-0000-0000-0000-000000000001', '77777777-0000-0000-0000-000000000002',
              '77777777-0000-0000-0000-000000000003']::uuid[])$$),
    '{"sqlstate": "PT409", "code": "stale_order", "detail": {"current": [
        "77777777-0000-0000-0000-000000000003", "77777777-0000-0000-0000-000000000004",
        "77777777-0000-0000-0000-000000000002", "77777777-0000-0000-0000-000000000001"]}}'::jsonb,
    'a reorder missing a live scene is a stale order carrying the current ids in order');

SELECT is(
    tests.error_of($$SELECT public.reorder_scene_drafts(
        '44444444-0000-0000-0000-000000000001',
        ARRAY['77777777-0000-0000-0000-000000000001', '77777777-0000-0000-0000-000000000002',
              '77777777-0000-0000-0000-000000000003', '66666666-0000-0000-0000-000000000001'
        ]::uuid[])$$) ->> 'code',
    'stale_order', 'a reorder naming a scene that is not a live scene of the project is stale');

SELECT is(
    tests.error_of($$SELECT public.reorder_scene_drafts(
        '44444444-0000-0000-0000-000000000001',
        ARRAY['77777777-0000-0000-0000-000000000001', '77777777-0000-0000-0000-000000000001',
              '77777777-0000-0000-0000-000000000002', '77777777-0000-0000-0000-000000000003'
        ]::uuid[])$$) ->> 'code',
    'invalid_input', 'a reorder repeating an id is invalid input');

SELECT is(
    tests.error_of($$SELECT public.reorder_scene_drafts(
        '44444444-0000-0000-0000-000000000001',
        ARRAY['77777777-0000-0000-0000-000000000001', NULL]::uuid[])$$) ->> 'code',
    'invalid_input', 'a reorder with a null id is invalid input');

SELECT is(
    tests.error_of($$SELECT public.reorder_scene_drafts(
        '55555555-0000-0000-0000-000000000001',
        ARRAY['66666666-0000-0000-0000-000000000001']::uuid[])$$) ->> 'code',
    'not_found', 'reordering another user''s project is not found');

SELECT results_eq(
    $$SELECT id::text, order_index FROM public.scene_drafts
      WHERE project_id = '44444444-0000-0000-0000-000000000001' ORDER BY order_index$$,
    $$VALUES ('77777777-0000-0000-0000-000000000003', 0),
             ('77777777-0000-0000-0000-000000000004', 1),
             ('77777777-0000-0000-0000-000000000002', 2),
             ('77777777-0000-0000-0000-000000000001', 3)$$,
    'refused reorders change no order');

-- Soft delete ----------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT archived, deleted_at IS NOT NULL, version FROM public.soft_delete_scene_draft(
        '77777777-0000-0000-0000-000000000004')$$,
    $$SELECT true, true, version + 1 FROM public.scene_drafts
      WHERE id = '77777777-0000-0000-0000-000000000004'$$,
    'soft delete archives the scene and stamps deleted_at in a new version');

SELECT set_config('t.tombstone', (
    SELECT to_jsonb(s)::text FROM public.scene_drafts AS s
    WHERE id = '77777777-0000-0000-0000-000000000004'), true);

SELECT is(
    (SELECT to_jsonb(s) FROM public.soft_delete_scene_draft(
        '77777777-0000-0000-0000-000000000004') AS s),
    current_setting('t.tombstone')::jsonb,
    'deleting a deleted scene returns the same tombstone, deleted_at set once');

SELECT results_eq(
    $$SELECT id::text FROM public.list_scene_drafts('44444444-0000-0000-0000-000000000001')$$,
    $$VALUES ('77777777-0000-0000-0000-000000000003'), ('77777777-0000-0000-0000-000000000002'),
             ('77777777-0000-0000-0000-000000000001')$$,
    'a deleted scene leaves the list');

SELECT results_eq(
    $$SELECT scene_count, total_duration FROM public.project_overview
      WHERE project_id = '44444444-0000-0000-0000-000000000001'$$,
    $$VALUES (3::bigint, 11.5::double precision)$$,
    'a deleted scene leaves the project totals');

SELECT is(
    tests.error_of($$SELECT public.update_scene_draft(
        '77777777-0000-0000-0000-000000000004', 1, '{"prompt_text": "Back"}')$$) ->> 'code',
    'not_found', 'a deleted scene cannot be updated');

SELECT is(
    (SELECT deleted_at IS NOT NULL FROM public.create_scene_draft(
        '77777777-0000-0000-0000-000000000004', '44444444-0000-0000-0000-000000000001',
        'Morning', 1)),
    true, 'replaying the create of a deleted scene returns the tombstone, never a revival');

SELECT is(
    (SELECT order_index FROM public.create_scene_draft(
        '77777777-0000-0000-0000-000000000005', '44444444-0000-0000-0000-000000000001',
        'Night', 1)),
    4, 'a new scene goes after the highest live order index');

SELECT results_eq(
    $$SELECT order_index FROM public.reorder_scene_drafts(
        '44444444-0000-0000-0000-000000000001',
        ARRAY['77777777-0000-0000-0000-000000000005', '77777777-0000-0000-0000-000000000003',
              '77777777-0000-0000-0000-000000000002', '77777777-0000-0000-0000-000000000001'
        ]::uuid[])$$,
    $$VALUES (0), (1), (2), (3)$$,
    'a reorder after a delete closes the gap');

SELECT is(
    tests.error_of($$SELECT public.soft_delete_scene_draft(
        '66666666-0000-0000-0000-000000000001')$$) ->> 'code',
    'not_found', 'deleting another user''s scene is not found');

SELECT is(
    tests.error_of($$SELECT public.soft_delete_scene_draft(
        '77777777-0000-0000-0000-00000000dead')$$) ->> 'code',
    'not_found', 'deleting a missing scene is not found');

-- The other user's rows came through untouched --------------------------------------------------
SELECT 'switched role' AS step FROM tests.clear_authentication();
SELECT results_eq(
    $$SELECT prompt_text, order_index, version, archived, deleted_at IS NULL
      FROM public.scene_drafts WHERE user_id = current_setting('t.other')::uuid$$,
    $$VALUES ('Their scene', 0, 1::bigint, false, true)$$,
    'the other user''s scene is unchanged by everything the owner tried');

-- Who may call ---------------------------------------------------------------------------------
SELECT 'switched role' AS step FROM tests.authenticate_as_anon();
SELECT throws_ok(
    $$SELECT public.list_scene_drafts('44444444-0000-0000-0000-000000000001')$$, '42501', NULL,
    'anon cannot list scenes');
SELECT throws_ok(
    $$SELECT public.create_scene_draft('77777777-0000-0000-0000-000000000008',
        '44444444-0000-0000-0000-000000000001', 'Anon', 1)$$, '42501', NULL,
    'anon cannot create scenes');
SELECT throws_ok(
    $$SELECT public.update_scene_draft('77777777-0000-0000-0000-000000000001', 1,
        '{"prompt_text": "Anon"}')$$, '42501', NULL,
    'anon cannot update scenes');
SELECT throws_ok(
    $$SELECT public.reorder_scene_drafts('44444444-0000-0000-0000-000000000001',
        ARRAY[]::uuid[])$$, '42501', NULL,
    'anon cannot reorder scenes');
SELECT throws_ok(
    $$SELECT public.soft_delete_scene_draft('77777777-0000-0000-0000-000000000001')$$, '42501',
    NULL, 'anon cannot delete scenes');

SELECT 'switched role' AS step FROM tests.clear_authentication();
SELECT * FROM finish();
ROLLBACK;
