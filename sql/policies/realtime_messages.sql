-- Private realtime topics: a signed-in user may join only the topic user:<own id>, and reads
-- only that topic's messages (hosted Realtime authorises a join by reading a probe message of the
-- topic with realtime.topic() set to it).

DROP POLICY IF EXISTS user_topic_select_own ON realtime.messages;
CREATE POLICY user_topic_select_own ON realtime.messages
FOR SELECT TO authenticated
USING (
    realtime.messages.extension = 'broadcast'
    AND realtime.messages.topic = (SELECT realtime.topic())
    AND (SELECT realtime.topic()) = 'user:' || (SELECT auth.uid())::text
);
