-- Private realtime topics: a signed-in user may join only the topic user:<own id>.

DROP POLICY IF EXISTS user_topic_select_own ON realtime.messages;
CREATE POLICY user_topic_select_own ON realtime.messages
FOR SELECT TO authenticated
USING (
    realtime.messages.extension = 'broadcast'
    AND (SELECT realtime.topic()) = 'user:' || (SELECT auth.uid())::text
);
