"""The realtime contract scenarios written with supabase-py's async client."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from realtime import RealtimeSubscribeStates
from realtime.exceptions import RealtimeHTTPError

from tests.py.contract.supabase_py_scenarios import Context

WAIT = 15.0
T = TypeVar("T")


async def _within(awaitable: Awaitable[T], what: str) -> T:
    try:
        return await asyncio.wait_for(awaitable, WAIT)
    except TimeoutError as timeout:
        raise AssertionError(f"no {what} within {WAIT} s") from timeout


async def _subscribed(channel: Any) -> str:
    """The first settled state of the channel's subscription."""
    state: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_state(status: RealtimeSubscribeStates, _error: Exception | None) -> None:
        if not state.done():
            state.set_result(status.value)

    await channel.subscribe(on_state)
    return await _within(state, "join")


class Waiter:
    """The first value ``accept`` maps to something other than None, fed from callbacks."""

    def __init__(self, accept: Callable[[Any], Any], what: str) -> None:
        self._accept = accept
        self._what = what
        self._result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def feed(self, value: Any = None) -> None:
        accepted = self._accept(value)
        if accepted is not None and not self._result.done():
            self._result.set_result(accepted)

    async def wait(self) -> Any:
        return await _within(self._result, self._what)


async def private_channel_gets_own_change_hints_and_refuses_another_users_topic(
    ctx: Context,
) -> dict[str, Any]:
    sb, other = await ctx.client(), await ctx.client()
    me = await sb.auth.sign_in_anonymously()
    them = await other.auth.sign_in_anonymously()
    assert me.user is not None
    assert them.user is not None
    hint = Waiter(lambda message: message, "change hint")
    own = sb.channel(f"user:{me.user.id}", {"config": {"private": True}})
    own.on_broadcast("change", hint.feed)
    own_join = await _subscribed(own)
    await sb.rpc(
        "upsert_project_overview", {"p_project_id": str(uuid.uuid4()), "p_title": "Hinted"}
    ).execute()
    received = await hint.wait()
    # No INSERT policy on realtime.messages lets a user write to its own topic.
    try:
        await own.http_send("note", {"text": "hello"})
        http_send = "accepted"
    except RealtimeHTTPError as error:
        http_send = error.message
    foreign = sb.channel(f"user:{them.user.id}", {"config": {"private": True}})
    foreign_join = await _subscribed(foreign)
    await sb.remove_all_channels()
    return {
        "own_topic_join": own_join,
        "hint_event": received["event"],
        "hint_names_the_table": "project_overview" in json.dumps(received["payload"]),
        "other_users_topic_join": foreign_join,
        "http_send_to_own_topic": http_send,
    }


async def public_channel_send_and_http_send_reach_the_other_subscriber(
    ctx: Context,
) -> dict[str, Any]:
    listener_client, sender_client = await ctx.client(), await ctx.client()
    topic = f"room:{uuid.uuid4()}"
    lines: list[int] = []

    def accept(payload: dict[str, Any]) -> list[int] | None:
        lines.append(payload["n"])
        return sorted(lines) if len(lines) == 2 else None

    both = Waiter(accept, "two broadcasts")
    listener = listener_client.channel(topic)
    listener.on_broadcast("line", lambda message: both.feed(message["payload"]))
    listener_join = await _subscribed(listener)
    sender = sender_client.channel(topic)
    sender_join = await _subscribed(sender)
    await sender.send_broadcast("line", {"n": 1})
    await sender.http_send("line", {"n": 2})
    received = await both.wait()
    await listener_client.remove_all_channels()
    await sender_client.remove_all_channels()
    return {
        "listener_join": listener_join,
        "sender_join": sender_join,
        "received": received,
    }


async def presence_track_and_untrack_reach_the_other_subscriber(ctx: Context) -> dict[str, Any]:
    watcher_client, tracker_client = await ctx.client(), await ctx.client()
    topic = f"room:{uuid.uuid4()}"
    watcher = watcher_client.channel(topic, {"config": {"presence": {"key": "watcher"}}})
    seen_join = False

    def joined_presence(_: Any) -> Any:
        return (watcher.presence_state().get("ada") or [None])[0]

    def keys_after_leave(_: Any) -> list[str] | None:
        state = watcher.presence_state()
        return list(state) if seen_join and "ada" not in state else None

    joined = Waiter(joined_presence, "presence join")
    left = Waiter(keys_after_leave, "presence leave")

    def on_sync() -> None:
        joined.feed()
        left.feed()

    watcher.on_presence_sync(on_sync)
    watcher_join = await _subscribed(watcher)
    tracker = tracker_client.channel(topic, {"config": {"presence": {"key": "ada"}}})
    tracker_join = await _subscribed(tracker)
    await tracker.track({"name": "Ada"})
    seen = await joined.wait()
    seen_join = True
    await tracker.untrack()
    remaining = await left.wait()
    await watcher_client.remove_all_channels()
    await tracker_client.remove_all_channels()
    return {
        "watcher_join": watcher_join,
        "tracker_join": tracker_join,
        "tracked_name": seen["name"],
        "keys_after_untrack": remaining,
    }


REALTIME_SCENARIOS: dict[str, Callable[[Context], Awaitable[dict[str, Any]]]] = {
    scenario.__name__: scenario
    for scenario in (
        private_channel_gets_own_change_hints_and_refuses_another_users_topic,
        public_channel_send_and_http_send_reach_the_other_subscriber,
        presence_track_and_untrack_reach_the_other_subscriber,
    )
}
