-- Private realtime topics: a signed-in user may join only user:<own id> (the RLS SELECT policy
-- on realtime.messages, evaluated with realtime.topic() set to the topic being joined).
SET LOCAL search_path = extensions, public;
SELECT plan(5);

SELECT 'users' FROM set_config('t.a', tests.create_user('topic-a@example.com')::text, true);
SELECT 'users' FROM set_config('t.b', tests.create_user('topic-b@example.com')::text, true);

-- One hint for each user's topic.
INSERT INTO public.project_overview (project_id, user_id, title)
VALUES ('50000000-0000-0000-0000-00000000000a', current_setting('t.a')::uuid, 'A'),
       ('50000000-0000-0000-0000-00000000000b', current_setting('t.b')::uuid, 'B');

SELECT 'as a' FROM tests.authenticate_as(current_setting('t.a')::uuid);
SELECT 'topic' FROM set_config('realtime.topic', 'user:' || current_setting('t.a'), true);
SELECT results_eq(
    $$SELECT DISTINCT topic, payload ->> 'id' FROM realtime.messages$$,
    $$VALUES ('user:' || current_setting('t.a'), '50000000-0000-0000-0000-00000000000a')$$,
    'a user joining their own topic is authorised to read its messages, and only those');

SELECT 'topic' FROM set_config('realtime.topic', 'user:' || current_setting('t.b'), true);
SELECT is(
    (SELECT count(*) FROM realtime.messages),
    0::bigint, 'a user joining another user''s topic is authorised to read nothing');

SELECT 'topic' FROM set_config('realtime.topic', 'public-lobby', true);
SELECT is(
    (SELECT count(*) FROM realtime.messages),
    0::bigint, 'a user joining any other topic is authorised to read nothing');

SELECT 'as anon' FROM tests.authenticate_as_anon();
SELECT 'topic' FROM set_config('realtime.topic', 'user:' || current_setting('t.a'), true);
SELECT is(
    (SELECT count(*) FROM realtime.messages),
    0::bigint, 'anon is authorised to read no topic');

SELECT 'back' FROM tests.clear_authentication();
SELECT is(
    (SELECT count(*) FROM pg_policies WHERE schemaname = 'realtime' AND tablename = 'messages'
       AND 'anon' = any(roles)),
    0::bigint, 'no realtime policy applies to anon');

SELECT * FROM finish();
ROLLBACK;
