"""Presence on a channel: track/untrack under the join's presence key, ``presence_state`` on
join, ``presence_diff`` on every change, and a leave when a socket closes; on a private channel
tracking needs the policies of realtime.messages."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from realtime import RealtimeSubscribeStates

from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    clock_fixture,
    gateway_fixture,
)
from tests.support.realtime import (
    WAIT,
    allow_rooms,
    client,
    field_of,
    raw_socket,
    run,
    signed_in,
)


async def _present(supabase: Any, topic: str, key: str) -> tuple[Any, asyncio.Queue]:
    """A subscribed channel with presence under ``key``, and the queue of its presence events:
    ``("join" | "leave", key, presences)`` and ``("sync", state)``."""
    events: asyncio.Queue[Any] = asyncio.Queue()
    states: asyncio.Queue[Any] = asyncio.Queue()
    channel = supabase.channel(topic, {"config": {"presence": {"key": key}}})
    channel.on_presence_join(lambda k, _, new: events.put_nowait(("join", k, new)))
    channel.on_presence_leave(lambda k, _, left: events.put_nowait(("leave", k, left)))
    channel.on_presence_sync(lambda: events.put_nowait(("sync", dict(channel.presence_state()))))
    await channel.subscribe(lambda status, _: states.put_nowait(status))
    assert await asyncio.wait_for(states.get(), WAIT) == RealtimeSubscribeStates.SUBSCRIBED
    return channel, events


async def _next(events: asyncio.Queue[Any], kind: str) -> Any:
    while True:
        event = await asyncio.wait_for(events.get(), WAIT)
        if event[0] == kind:
            return event


def _payloads(presences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in p.items() if k != "presence_ref"} for p in presences]


def test_a_tracked_presence_reaches_the_other_members_under_its_key(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        alice, bob = await client(gateway), await client(gateway)
        tracker, _ = await _present(alice, "stage", "alice")
        _, seen = await _present(bob, "stage", "bob")
        await tracker.track({"status": "writing"})
        _, key, joined = await _next(seen, "join")
        assert (key, _payloads(joined)) == ("alice", [{"status": "writing"}])
        _, state = await _next(seen, "sync")
        assert _payloads(state["alice"]) == [{"status": "writing"}]
        await alice.realtime.close()
        await bob.realtime.close()

    run(scenario)


def test_a_member_joining_later_receives_the_presence_state_on_join(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        alice, bob = await client(gateway), await client(gateway)
        tracker, own = await _present(alice, "stage", "alice")
        await tracker.track({"status": "here"})
        await _next(own, "join")  # alice hears her own join
        _, seen = await _present(bob, "stage", "bob")
        _, state = await _next(seen, "sync")
        assert _payloads(state["alice"]) == [{"status": "here"}]
        await alice.realtime.close()
        await bob.realtime.close()

    run(scenario)


def test_untrack_removes_the_presence_for_every_member(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        alice, bob = await client(gateway), await client(gateway)
        tracker, _ = await _present(alice, "stage", "alice")
        _, seen = await _present(bob, "stage", "bob")
        await tracker.track({"status": "here"})
        await _next(seen, "join")
        await tracker.untrack()
        _, key, left = await _next(seen, "leave")
        assert (key, _payloads(left)) == ("alice", [{"status": "here"}])
        _, state = await _next(seen, "sync")
        assert "alice" not in state
        await alice.realtime.close()
        await bob.realtime.close()

    run(scenario)


def test_a_closed_socket_leaves_the_presence_of_its_channels(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        alice, bob = await client(gateway), await client(gateway)
        tracker, _ = await _present(alice, "stage", "alice")
        _, seen = await _present(bob, "stage", "bob")
        await tracker.track({"status": "here"})
        await _next(seen, "join")
        await alice.realtime.close()
        _, key, left = await _next(seen, "leave")
        assert (key, _payloads(left)) == ("alice", [{"status": "here"}])
        await bob.realtime.close()

    run(scenario)


def test_tracking_again_replaces_the_presence_in_one_diff(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        async with raw_socket(gateway, "2.0.0") as socket:
            config = {"presence": {"key": "ann", "enabled": True}}
            assert (await socket.join("stage", gateway.keys.anon_key, config))[4]["status"] == "ok"
            assert await socket.receive() == [None, None, "realtime:stage", "presence_state", {}]
            for ref, status in (("2", "in"), ("3", "out")):
                track = {"type": "presence", "event": "track", "payload": {"s": status}}
                await socket.push("realtime:stage", "presence", track, ref, "1")
            first = await socket.receive_until(lambda f: field_of(f, "event") == "presence_diff")
            second = await socket.receive_until(lambda f: field_of(f, "event") == "presence_diff")
            (joined,) = first[4]["joins"]["ann"]["metas"]
            assert (joined["s"], first[4]["leaves"]) == ("in", {})
            (replaced,) = second[4]["joins"]["ann"]["metas"]
            assert replaced["s"] == "out"
            assert replaced["phx_ref_prev"] == joined["phx_ref"]
            assert second[4]["leaves"]["ann"]["metas"] == [joined]

    run(scenario)


def test_presence_on_a_private_channel_needs_the_insert_policies(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    allow_rooms(admin_conn)

    async def scenario() -> None:
        _, session = await signed_in(gateway)
        async with raw_socket(gateway, "1.0.0") as socket:
            for ref, topic in (("1", "readonly:1"), ("2", "room:1")):
                config = {"private": True, "presence": {"key": "me"}}
                joined = await socket.join(topic, session.access_token, config, ref=ref)
                assert joined["payload"]["status"] == "ok"
            track = {"type": "presence", "event": "track", "payload": {"s": 1}}
            await socket.push("realtime:readonly:1", "presence", track, "3", "1")
            refused = await socket.receive_until(lambda f: f["ref"] == "3")
            assert refused["payload"]["status"] == "error"
            await socket.push("realtime:room:1", "presence", track, "4", "2")
            diff = await socket.receive_until(lambda f: f["event"] == "presence_diff")
            assert diff["topic"] == "realtime:room:1"
            accepted = await socket.receive_until(lambda f: f["ref"] == "4")
            assert accepted["payload"]["status"] == "ok"

    run(scenario)
