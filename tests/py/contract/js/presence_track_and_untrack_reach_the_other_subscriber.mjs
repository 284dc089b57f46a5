// Presence on a public channel: one client tracks and untracks; the other's presence state
// follows.
export default async function ({ client, uuid, subscribed, waiter }) {
  const watcherClient = client();
  const trackerClient = client();
  const topic = `room:${uuid()}`;
  const watcher = watcherClient.channel(topic, { config: { presence: { key: 'watcher' } } });
  let joinedSeen = false;
  const joined = waiter(() => watcher.presenceState().ada?.[0], 'presence join');
  const left = waiter(
    () => {
      const state = watcher.presenceState();
      return joinedSeen && !('ada' in state) ? Object.keys(state) : undefined;
    },
    'presence leave',
  );
  watcher.on('presence', { event: 'sync' }, () => {
    joined.feed();
    left.feed();
  });
  const watcherJoin = await subscribed(watcher);
  const tracker = trackerClient.channel(topic, { config: { presence: { key: 'ada' } } });
  const trackerJoin = await subscribed(tracker);
  await tracker.track({ name: 'Ada' });
  const seen = await joined.wait();
  joinedSeen = true;
  await tracker.untrack();
  const remaining = await left.wait();
  await watcherClient.removeAllChannels();
  await trackerClient.removeAllChannels();
  return {
    watcher_join: watcherJoin,
    tracker_join: trackerJoin,
    tracked_name: seen.name,
    keys_after_untrack: remaining,
  };
}
