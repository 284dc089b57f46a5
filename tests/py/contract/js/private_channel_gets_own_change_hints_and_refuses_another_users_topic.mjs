// A private channel on user:<own id> joins and gets the change hint of the user's own write;
// another user's topic is refused, and so is a message the user sends to its own topic.
export default async function ({ client, uuid, subscribed, waiter }) {
  const sb = client();
  const other = client();
  const { data } = await sb.auth.signInAnonymously();
  const { data: otherData } = await other.auth.signInAnonymously();
  const hint = waiter((message) => message, 'change hint');
  const own = sb
    .channel(`user:${data.user.id}`, { config: { private: true } })
    .on('broadcast', { event: 'change' }, hint.feed);
  const ownJoin = await subscribed(own);
  await sb.rpc('upsert_project_overview', { p_project_id: uuid(), p_title: 'Hinted' });
  const received = await hint.wait();
  // No INSERT policy on realtime.messages lets a user write to its own topic.
  const httpSend = await own.httpSend('note', { text: 'hello' }).then(
    () => 'accepted',
    (error) => error.message,
  );
  const foreign = sb.channel(`user:${otherData.user.id}`, { config: { private: true } });
  const foreignJoin = await subscribed(foreign);
  await sb.removeAllChannels();
  return {
    own_topic_join: ownJoin,
    hint_event: received.event,
    hint_names_the_table: JSON.stringify(received.payload).includes('project_overview'),
    other_users_topic_join: foreignJoin,
    http_send_to_own_topic: httpSend,
  };
}
