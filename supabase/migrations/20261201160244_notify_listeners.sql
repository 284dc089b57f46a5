-- Channels a local listener has announced (the local stack's clip dispatcher): a trigger sends a
-- NOTIFY only on a channel listed here. PostgreSQL holds one lock from before the commit record
-- of a notifying transaction until its commit is flushed, so notifications nobody hears (hosted,
-- where a Database Webhook dispatches new jobs) would serialise the commits of every writer.
-- Every statement is safe to run twice.

CREATE TABLE IF NOT EXISTS private.notify_listeners (
    channel text PRIMARY KEY CHECK (char_length(channel) BETWEEN 1 AND 63),
    since timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE private.notify_listeners ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON private.notify_listeners FROM public, anon, authenticated;
GRANT SELECT, INSERT ON private.notify_listeners TO service_role;
