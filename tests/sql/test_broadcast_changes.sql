-- Every change of a synced row is announced on the owner's private topic, naming the row only.
SET LOCAL search_path = extensions, public;
SELECT plan(3);

SELECT set_config('t.owner', tests.create_user('hint@example.com')::text, true);

INSERT INTO public.project_overview (project_id, user_id, title)
VALUES ('40000000-0000-0000-0000-000000000001', current_setting('t.owner')::uuid, 'Hinted');

SELECT results_eq(
    $$SELECT topic, event, private, payload FROM realtime.messages
      WHERE payload ->> 'table' = 'project_overview'$$,
    $$VALUES ('user:' || current_setting('t.owner'), 'change', true,
              '{"table": "project_overview", "id": "40000000-0000-0000-0000-000000000001",
                "version": 1, "op": "insert"}'::jsonb)$$,
    'creating a project sends one private change hint to its owner''s topic');

UPDATE public.project_overview SET title = 'Renamed'
WHERE project_id = '40000000-0000-0000-0000-000000000001';

SELECT is(
    (SELECT max((payload ->> 'version')::int) FROM realtime.messages
     WHERE topic = 'user:' || current_setting('t.owner')),
    2, 'an update sends a hint carrying the new version');

SELECT is(
    (SELECT count(*) FROM realtime.messages WHERE payload ? 'title'),
    0::bigint, 'hints never carry row data');

SELECT * FROM finish();
ROLLBACK;
