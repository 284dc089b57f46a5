// Two clients on a public channel: channel.send (websocket) and channel.httpSend (REST) from one
// both reach the other.
export default async function ({ client, uuid, subscribed, waiter }) {
  const listenerClient = client();
  const senderClient = client();
  const topic = `room:${uuid()}`;
  const lines = [];
  const both = waiter((payload) => {
    lines.push(payload.n);
    return lines.length === 2 ? [...lines].sort() : undefined;
  }, 'two broadcasts');
  const listener = listenerClient
    .channel(topic)
    .on('broadcast', { event: 'line' }, (message) => both.feed(message.payload));
  const listenerJoin = await subscribed(listener);
  const sender = senderClient.channel(topic);
  const senderJoin = await subscribed(sender);
  await sender.send({ type: 'broadcast', event: 'line', payload: { n: 1 } });
  await sender.httpSend('line', { n: 2 });
  const received = await both.wait();
  await listenerClient.removeAllChannels();
  await senderClient.removeAllChannels();
  return {
    listener_join: listenerJoin,
    sender_join: senderJoin,
    received: received,
  };
}
