-- The project contract functions: list, upsert, rename, duplicate and archive.
-- Runs in one transaction that is rolled back.
SET LOCAL search_path = extensions, public;
SELECT plan(50);

SELECT set_config('t.owner', tests.create_user('owner@example.com')::text, true);
SELECT set_config('t.other', tests.create_user('other@example.com')::text, true);

-- The other user's project, which the owner must never see or change.
SELECT 'switched role' AS step FROM tests.authenticate_as(current_setting('t.other')::uuid);
SELECT public.upsert_project_overview('22222222-0000-0000-0000-000000000001', 'Secret');

-- Upsert ---------------------------------------------------------------------------------------
SELECT 'switched role' AS step FROM tests.authenticate_as(current_setting('t.owner')::uuid);

SELECT results_eq(
    $$SELECT title, version, archived, scene_count
      FROM public.upsert_project_overview('11111111-0000-0000-0000-000000000001')$$,
    $$VALUES ('Untitled project', 1::bigint, false, 0::bigint)$$,
    'upserting a new id creates an untitled project at version 1');

SELECT is(
    (SELECT version FROM public.upsert_project_overview('11111111-0000-0000-0000-000000000001')),
    1::bigint, 'replaying the create returns the same project and changes nothing');

SELECT results_eq(
    $$SELECT title, version
      FROM public.upsert_project_overview('11111111-0000-0000-0000-000000000001', 'Pilot')$$,
    $$VALUES ('Pilot', 2::bigint)$$,
    'upserting an existing project with a title renames it');

SELECT is(
    (SELECT version
     FROM public.upsert_project_overview('11111111-0000-0000-0000-000000000001', 'Pilot')),
    2::bigint, 'replaying the rename through upsert keeps the version');

SELECT is(
    tests.error_of($$SELECT public.upsert_project_overview(
        '11111111-0000-0000-0000-000000000001', '')$$) ->> 'code',
    'invalid_input', 'an empty title is invalid input');

SELECT is(
    tests.error_of($$SELECT public.upsert_project_overview(
        '11111111-0000-0000-0000-000000000001', '   ')$$) ->> 'code',
    'invalid_input', 'a title of only white space is invalid input');

SELECT is(
    tests.error_of(format('SELECT public.upsert_project_overview(%L, %L)',
        '11111111-0000-0000-0000-000000000009', repeat('x', 201))) ->> 'code',
    'invalid_input', 'a title over 200 characters is invalid input');

SELECT results_eq(
    $$SELECT count(*), min(title), max(version) FROM public.project_overview
      WHERE user_id = current_setting('t.owner')::uuid$$,
    $$VALUES (1::bigint, 'Pilot', 2::bigint)$$,
    'invalid input creates and changes nothing');

SELECT is(
    tests.error_of($$SELECT public.upsert_project_overview(
        '11111111-0000-0000-0000-000000000001', 'Other', 1)$$)
    - 'sqlstate' - 'detail',
    '{"code": "version_conflict"}'::jsonb,
    'an upsert based on a version older than the last title change is a version conflict');

SELECT is(
    tests.error_of($$SELECT public.upsert_project_overview(
        '11111111-0000-0000-0000-000000000001', 'Other', 1)$$) -> 'detail',
    jsonb_build_object(
        'current', (SELECT to_jsonb(p) FROM public.project_overview AS p
                    WHERE project_id = '11111111-0000-0000-0000-000000000001'),
        'fields', '["title"]'::jsonb),
    'the version conflict carries the current row and the conflicting field');

SELECT is(
    tests.error_of($$SELECT public.upsert_project_overview(
        '11111111-0000-0000-0000-000000000001', 'Other', 9)$$) ->> 'code',
    'invalid_input', 'a base version newer than the project is invalid input');

SELECT is(
    tests.error_of($$SELECT public.upsert_project_overview(
        '22222222-0000-0000-0000-000000000001', 'Mine now')$$) ->> 'code',
    'id_conflict', 'upserting the id of another user''s project is an id conflict');

SELECT is(
    tests.error_of($$SELECT public.upsert_project_overview(
        '22222222-0000-0000-0000-000000000001', 'Mine now')$$),
    '{"sqlstate": "PT409", "code": "id_conflict", "detail": null}'::jsonb, 'the id conflict reveals nothing about the other user''s project');

-- Rename ---------------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT title, version
      FROM public.rename_project('11111111-0000-0000-0000-000000000001', 'Second', 2)$$,
    $$VALUES ('Second', 3::bigint)$$,
    'renaming with the current base version sets the title and bumps the version');

SELECT is(
    (SELECT version
     FROM public.rename_project('11111111-0000-0000-0000-000000000001', 'Second', 2)),
    3::bigint, 'replaying a rename changes nothing');

SELECT is(
    tests.error_of($$SELECT public.rename_project(
        '11111111-0000-0000-0000-000000000001', 'Third', 2)$$) ->> 'code',
    'version_conflict', 'a rename based on a stale version to another title is a conflict');

SELECT results_eq(
    $$SELECT title, version
      FROM public.rename_project('11111111-0000-0000-0000-000000000001', 'Third')$$,
    $$VALUES ('Third', 4::bigint)$$,
    'a rename without a base version always applies');

SELECT is(
    tests.error_of($$SELECT public.rename_project(
        '11111111-0000-0000-0000-000000000001', NULL)$$) ->> 'code',
    'invalid_input', 'a rename needs a title');

SELECT is(
    tests.error_of(format('SELECT public.rename_project(%L, %L)',
        '11111111-0000-0000-0000-000000000001', repeat('y', 201))) ->> 'code',
    'invalid_input', 'a rename to an overlong title is invalid input');

SELECT is(
    tests.error_of($$SELECT public.rename_project(
        '11111111-0000-0000-0000-00000000dead', 'Ghost')$$) ->> 'code',
    'not_found', 'renaming a missing project is not found');

SELECT is(
    tests.error_of($$SELECT public.rename_project(
        '22222222-0000-0000-0000-000000000001', 'Stolen')$$) ->> 'code',
    'not_found', 'renaming another user''s project is not found');

-- Archive and list -----------------------------------------------------------------------------
SELECT public.upsert_project_overview('11111111-0000-0000-0000-000000000002', 'Old');

SELECT results_eq(
    $$SELECT archived, version
      FROM public.archive_project('11111111-0000-0000-0000-000000000002')$$,
    $$VALUES (true, 2::bigint)$$,
    'archiving a project sets archived');

SELECT is(
    (SELECT version FROM public.archive_project('11111111-0000-0000-0000-000000000002')),
    2::bigint, 'archiving it again changes nothing');

SELECT is(
    tests.error_of($$SELECT public.archive_project(
        '22222222-0000-0000-0000-000000000001')$$) ->> 'code',
    'not_found', 'archiving another user''s project is not found');

SELECT is(
    tests.error_of($$SELECT public.archive_project(
        '11111111-0000-0000-0000-00000000dead')$$) ->> 'code',
    'not_found', 'archiving a missing project is not found');

SELECT public.upsert_project_overview('11111111-0000-0000-0000-000000000003', 'Newest');
SELECT public.upsert_project_overview('11111111-0000-0000-0000-000000000004', 'Deleted');

-- Give the projects distinct change times (triggers off) and delete one, as the server might.
SELECT 'switched role' AS step FROM tests.clear_authentication();
SELECT set_config('session_replication_role', 'replica', true);
UPDATE public.project_overview
SET last_updated = now() - interval '1 hour' * right(project_id::text, 1)::int
WHERE user_id = current_setting('t.owner')::uuid;
UPDATE public.project_overview
SET last_updated = now() + interval '1 hour'
WHERE project_id = '11111111-0000-0000-0000-000000000003';
UPDATE public.project_overview SET deleted_at = now()
WHERE project_id = '11111111-0000-0000-0000-000000000004';
SELECT set_config('session_replication_role', 'origin', true);
SELECT 'switched role' AS step FROM tests.authenticate_as(current_setting('t.owner')::uuid);

SELECT results_eq(
    $$SELECT project_id::text FROM public.list_project_overviews()$$,
    $$VALUES ('11111111-0000-0000-0000-000000000003'), ('11111111-0000-0000-0000-000000000001')$$,
    'the list holds the caller''s live, unarchived projects, most recently changed first');

SELECT results_eq(
    $$SELECT project_id::text FROM public.list_project_overviews(true)$$,
    $$VALUES ('11111111-0000-0000-0000-000000000003'), ('11111111-0000-0000-0000-000000000001'),
             ('11111111-0000-0000-0000-000000000002')$$,
    'archived projects are listed on request; deleted and other users'' projects never');

SELECT is(
    tests.error_of($$SELECT public.rename_project(
        '11111111-0000-0000-0000-000000000004', 'Back')$$) ->> 'code',
    'not_found', 'renaming a deleted project is not found');

SELECT is(
    tests.error_of($$SELECT public.upsert_project_overview(
        '11111111-0000-0000-0000-000000000004', 'Back')$$) ->> 'code',
    'not_found', 'upserting a deleted project is not found and does not revive it');

SELECT is(
    tests.error_of($$SELECT public.archive_project(
        '11111111-0000-0000-0000-000000000004')$$) ->> 'code',
    'not_found', 'archiving a deleted project is not found');

-- Duplicate ------------------------------------------------------------------------------------
SELECT public.create_scene_draft(
    '33333333-0000-0000-0000-000000000001', '11111111-0000-0000-0000-000000000001', 'Open', 4);
SELECT public.create_scene_draft(
    '33333333-0000-0000-0000-000000000002', '11111111-0000-0000-0000-000000000001', 'Gone', 9);
SELECT public.create_scene_draft(
    '33333333-0000-0000-0000-000000000003', '11111111-0000-0000-0000-000000000001', 'Close', 2,
    'exterior', 'wide');
SELECT public.soft_delete_scene_draft('33333333-0000-0000-0000-000000000002');

SELECT results_eq(
    $$SELECT title, scene_count, total_duration, archived
      FROM public.duplicate_project('11111111-0000-0000-0000-000000000001',
                                    '11111111-0000-0000-0000-000000000005')$$,
    $$VALUES ('Third (copy)', 2::bigint, 6::double precision, false)$$,
    'duplicating copies the project with its live scenes under a copy title');

SELECT results_eq(
    $$SELECT id, order_index, prompt_text, duration, scene_type, shot_type
      FROM public.scene_drafts WHERE project_id = '11111111-0000-0000-0000-000000000005'
      ORDER BY order_index$$,
    $$VALUES
        (private.duplicated_scene_id('11111111-0000-0000-0000-000000000005',
                                     '33333333-0000-0000-0000-000000000001'),
         0, 'Open', 4::double precision, NULL::text, NULL::text),
        (private.duplicated_scene_id('11111111-0000-0000-0000-000000000005',
                                     '33333333-0000-0000-0000-000000000003'),
         1, 'Close', 2::double precision, 'exterior', 'wide')$$,
    'the copied scenes have ids derived from the new project and source scene, in order');

SELECT results_eq(
    $$SELECT title, version, scene_count
      FROM public.duplicate_project('11111111-0000-0000-0000-000000000001',
                                    '11111111-0000-0000-0000-000000000005')$$,
    $$SELECT title, version, scene_count FROM public.project_overview
      WHERE project_id = '11111111-0000-0000-0000-000000000005'$$,
    'replaying a duplication returns the existing copy');

SELECT results_eq(
    $$SELECT count(*), max(version) FROM public.scene_drafts
      WHERE project_id = '11111111-0000-0000-0000-000000000005'$$,
    $$VALUES (2::bigint, 1::bigint)$$,
    'replaying a duplication creates and changes no scene');

SELECT is(
    (SELECT title FROM public.duplicate_project('11111111-0000-0000-0000-000000000002',
                                                '11111111-0000-0000-0000-000000000006',
                                                'Revival')),
    'Revival', 'an archived project can be duplicated under a given title');

SELECT is(
    tests.error_of($$SELECT public.duplicate_project(
        '11111111-0000-0000-0000-000000000002', '11111111-0000-0000-0000-000000000001')$$)
    ->> 'code',
    'id_conflict', 'duplicating onto an unrelated project of the caller is an id conflict');

SELECT is(
    tests.error_of($$SELECT public.duplicate_project(
        '11111111-0000-0000-0000-000000000003', '11111111-0000-0000-0000-000000000006')$$)
    ->> 'code',
    'id_conflict', 'duplicating another source onto an existing copy is an id conflict');

SELECT 'scene added to the copy' FROM public.create_scene_draft(
    '33333333-0000-0000-0000-0000000000c1', '11111111-0000-0000-0000-000000000006',
    'Added after copying', 2);
SELECT is(
    (SELECT project_id FROM public.duplicate_project('11111111-0000-0000-0000-000000000002',
                                                     '11111111-0000-0000-0000-000000000006',
                                                     'Revival')),
    '11111111-0000-0000-0000-000000000006'::uuid,
    'replaying a duplication after the copy was edited still returns the copy');

SELECT is(
    tests.error_of($$SELECT public.duplicate_project(
        '11111111-0000-0000-0000-000000000001', '22222222-0000-0000-0000-000000000001')$$)
    ->> 'code',
    'id_conflict', 'duplicating onto another user''s project id is an id conflict');

SELECT is(
    tests.error_of($$SELECT public.duplicate_project(
        '22222222-0000-0000-0000-000000000001', '11111111-0000-0000-0000-000000000007')$$)
    ->> 'code',
    'not_found', 'duplicating another user''s project is not found');

SELECT is(
    tests.error_of($$SELECT public.duplicate_project(
        '11111111-0000-0000-0000-000000000001', '11111111-0000-0000-0000-000000000001')$$)
    ->> 'code',
    'invalid_input', 'a project cannot be duplicated onto its own id');

SELECT is(
    tests.error_of($$SELECT public.duplicate_project(
        '11111111-0000-0000-0000-000000000001', '11111111-0000-0000-0000-000000000007', '')$$)
    ->> 'code',
    'invalid_input', 'duplicating under an empty title is invalid input');

SELECT is(
    (SELECT count(*) FROM public.project_overview
     WHERE project_id = '11111111-0000-0000-0000-000000000007'),
    0::bigint, 'a refused duplication creates nothing');

-- The other user's project came through untouched -----------------------------------------------
SELECT 'switched role' AS step FROM tests.clear_authentication();
SELECT results_eq(
    $$SELECT title, version, archived FROM public.project_overview
      WHERE project_id = '22222222-0000-0000-0000-000000000001'$$,
    $$VALUES ('Secret', 1::bigint, false)$$,
    'the other user''s project is unchanged by everything the owner tried');

-- Who may call ---------------------------------------------------------------------------------
SELECT 'switched role' AS step FROM tests.authenticate_as_anon();
SELECT throws_ok(
    $$SELECT public.list_project_overviews()$$, '42501', NULL,
    'anon cannot list projects');
SELECT throws_ok(
    $$SELECT public.upsert_project_overview('11111111-0000-0000-0000-000000000008')$$, '42501',
    NULL, 'anon cannot create projects');
SELECT throws_ok(
    $$SELECT public.rename_project('11111111-0000-0000-0000-000000000001', 'Anon')$$, '42501',
    NULL, 'anon cannot rename projects');
SELECT throws_ok(
    $$SELECT public.duplicate_project('11111111-0000-0000-0000-000000000001',
                                      '11111111-0000-0000-0000-000000000008')$$, '42501',
    NULL, 'anon cannot duplicate projects');
SELECT throws_ok(
    $$SELECT public.archive_project('11111111-0000-0000-0000-000000000001')$$, '42501',
    NULL, 'anon cannot archive projects');

SELECT 'switched role' AS step FROM tests.authenticate_as_service_role();
SELECT throws_ok(
    $$SELECT public.upsert_project_overview('11111111-0000-0000-0000-000000000008')$$, 'PT401',
    NULL, 'the service role is no signed-in user and owns no projects');

SELECT 'switched role' AS step FROM tests.clear_authentication();
SELECT * FROM finish();
ROLLBACK;
