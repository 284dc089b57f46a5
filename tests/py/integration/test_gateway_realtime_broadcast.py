"""Client broadcast over the socket (``self`` and ``ack`` honoured; private channels need the
INSERT policies of realtime.messages) and the REST broadcast endpoints, with supabase-py's
realtime client and raw 1.0.0 frames."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg
import pytest
from realtime import RealtimeSubscribeStates
from realtime.exceptions import RealtimeHTTPError

from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    clock_fixture,
    gateway_fixture,
)
from tests.support.realtime import (
    WAIT,
    allow_rooms,
    client,
    decode_user_broadcast,
    raw_socket,
    run,
    signed_in,
)


async def _listen(supabase: Any, topic: str, config: dict[str, Any]) -> tuple[Any, asyncio.Queue]:
    """A subscribed channel of ``supabase`` and the queue its broadcasts land in."""
    received: asyncio.Queue[Any] = asyncio.Queue()
    states: asyncio.Queue[Any] = asyncio.Queue()
    channel = supabase.channel(topic, {"config": config})
    channel.on_broadcast("*", received.put_nowait)
    await channel.subscribe(lambda status, _: states.put_nowait(status))
    assert await asyncio.wait_for(states.get(), WAIT) == RealtimeSubscribeStates.SUBSCRIBED
    return channel, received


def test_a_broadcast_reaches_the_other_members_and_not_the_sender_without_self(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        sender, receiver = await client(gateway), await client(gateway)
        sent, echoed = await _listen(sender, "lobby", {"broadcast": {"self": False}})
        answering, received = await _listen(receiver, "lobby", {})
        await sent.send_broadcast("wave", {"n": 1})
        await sent.send_broadcast("wave", {"n": 2})
        assert (await asyncio.wait_for(received.get(), WAIT))["payload"] == {"n": 1}
        assert (await asyncio.wait_for(received.get(), WAIT))["payload"] == {"n": 2}
        await answering.send_broadcast("thanks", {})
        # An echo of the sender's own waves would have reached it before this answer.
        assert (await asyncio.wait_for(echoed.get(), WAIT))["event"] == "thanks"
        await sender.realtime.close()
        await receiver.realtime.close()

    run(scenario)


def test_with_self_the_sender_receives_its_own_broadcast(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        sender = await client(gateway)
        channel, echoed = await _listen(sender, "lobby", {"broadcast": {"self": True}})
        await channel.send_broadcast("wave", {"n": 1})
        message = await asyncio.wait_for(echoed.get(), WAIT)
        assert (message["event"], message["payload"]) == ("wave", {"n": 1})
        await sender.realtime.close()

    run(scenario)


def test_with_ack_the_server_acknowledges_each_broadcast(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        sender = await client(gateway)
        channel, _ = await _listen(sender, "lobby", {"broadcast": {"ack": True}})
        acknowledged: asyncio.Queue[str] = asyncio.Queue()
        push = await channel.push("broadcast", {"type": "broadcast", "event": "e", "payload": {}})
        push.receive("ok", lambda _: acknowledged.put_nowait("ok"))
        push.receive("error", lambda _: acknowledged.put_nowait("error"))
        assert await asyncio.wait_for(acknowledged.get(), WAIT) == "ok"
        await sender.realtime.close()

    run(scenario)


def test_a_private_broadcast_the_insert_policies_allow_reaches_the_members(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    allow_rooms(admin_conn)

    async def scenario() -> None:
        (sender, _), (receiver, _) = await signed_in(gateway), await signed_in(gateway)
        config = {"private": True, "broadcast": {"ack": True}}
        channel, _ = await _listen(sender, "room:7", config)
        _, received = await _listen(receiver, "room:7", {"private": True})
        acknowledged: asyncio.Queue[str] = asyncio.Queue()
        push = await channel.push("broadcast", {"type": "broadcast", "event": "e", "payload": {}})
        push.receive("ok", lambda _: acknowledged.put_nowait("ok"))
        assert await asyncio.wait_for(acknowledged.get(), WAIT) == "ok"
        assert (await asyncio.wait_for(received.get(), WAIT))["event"] == "e"
        await sender.realtime.close()
        await receiver.realtime.close()

    run(scenario)


@pytest.mark.parametrize("room", ["readonly", "hints"])
def test_a_private_broadcast_without_write_permission_is_dropped_unacknowledged(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any], room: str
) -> None:
    """Nobody may write a broadcast on a read-only topic, nor on a change-hint topic (hints come
    only from the database): the message reaches no one, the sender included, and gets no ack."""
    allow_rooms(admin_conn)

    async def scenario() -> None:
        _, session = await signed_in(gateway)
        topic = "readonly:1" if room == "readonly" else f"user:{session.user.id}"
        async with raw_socket(gateway, "1.0.0") as socket:
            config = {"private": True, "broadcast": {"self": True, "ack": True}}
            joined = await socket.join(topic, session.access_token, config)
            assert joined["payload"]["status"] == "ok"
            payload = {"type": "broadcast", "event": "change", "payload": {"forged": True}}
            await socket.push(f"realtime:{topic}", "broadcast", payload, "2", "1")
            await socket.heartbeat("3")
            # Frames of one socket are handled in order: an echo or an ack would come first.
            assert (await socket.receive())["ref"] == "3"

    run(scenario)


def _post(gateway: RunningGateway, path: str, token: str | None, **request: Any) -> httpx.Response:
    headers = {"apikey": gateway.keys.anon_key, **request.pop("headers", {})}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    url = f"{gateway.url}/realtime/v1/api/broadcast{path}"
    return httpx.post(url, headers=headers, timeout=WAIT, **request)


def test_a_rest_broadcast_reaches_the_members_of_a_public_channel_with_202(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        listener = await client(gateway)
        _, received = await _listen(listener, "lobby", {})
        message = {"topic": "lobby", "event": "news", "payload": {"n": 1}}
        answer = await asyncio.to_thread(_post, gateway, "", None, json={"messages": [message]})
        assert (answer.status_code, answer.content) == (202, b"")
        got = await asyncio.wait_for(received.get(), WAIT)
        assert (got["event"], got["payload"]) == ("news", {"n": 1})
        await listener.realtime.close()

    run(scenario)


def test_a_private_rest_broadcast_is_sent_only_where_the_caller_may_write(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    allow_rooms(admin_conn)

    async def scenario() -> None:
        listener, session = await signed_in(gateway)
        _, hints = await _listen(listener, f"user:{session.user.id}", {"private": True})
        _, room = await _listen(listener, "room:9", {"private": True})
        messages = [
            {"topic": f"user:{session.user.id}", "event": "forged", "payload": {}, "private": True},
            {"topic": "room:9", "event": "allowed", "payload": {"n": 1}, "private": True},
        ]
        answer = await asyncio.to_thread(
            _post, gateway, "", session.access_token, json={"messages": messages}
        )
        assert answer.status_code == 202
        assert (await asyncio.wait_for(room.get(), WAIT))["event"] == "allowed"
        assert hints.empty()  # messages go out in order: the forged one would have come first
        await listener.realtime.close()

    run(scenario)


@pytest.mark.parametrize(
    ("apikey", "token", "status"),
    [("anon", "not-a-jwt", 401), (None, None, 401), ("nope", None, 401), ("anon", "forged", 401)],
)
def test_a_rest_broadcast_without_a_trusted_key_and_token_is_refused(
    gateway: RunningGateway, apikey: str | None, token: str | None, status: int
) -> None:
    headers: dict[str, str] = {}
    if apikey is not None:
        headers["apikey"] = gateway.keys.anon_key if apikey == "anon" else apikey
    if token == "forged":
        token = gateway.keys.service_role_key[:-4] + "AAAA"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {"messages": [{"topic": "lobby", "event": "e", "payload": {}}]}
    answer = httpx.post(
        f"{gateway.url}/realtime/v1/api/broadcast", headers=headers, json=body, timeout=WAIT
    )
    assert answer.status_code == status
    assert "message" in answer.json()


@pytest.mark.parametrize(
    "body",
    [{}, {"messages": []}, {"messages": [{"topic": "lobby", "event": "e"}]}, {"messages": [1]}],
)
def test_a_rest_broadcast_with_invalid_messages_is_refused_with_422(
    gateway: RunningGateway, body: dict[str, Any]
) -> None:
    answer = _post(gateway, "", None, json=body)
    assert answer.status_code == 422
    assert "errors" in answer.json()


def test_http_send_reaches_public_members_and_binary_payloads_reach_2_0_0_members(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        sender = await client(gateway)
        listener = await client(gateway)
        _, received = await _listen(listener, "lobby", {})
        async with raw_socket(gateway, "2.0.0") as peer:
            assert (await peer.join("lobby", gateway.keys.anon_key))[4]["status"] == "ok"
            channel = sender.channel("lobby")
            await channel.http_send("news", {"n": 1})
            await channel.http_send("blob", b"\x00\x01")
            got = await asyncio.wait_for(received.get(), WAIT)
            assert (got["event"], got["payload"]) == ("news", {"n": 1})
            first = decode_user_broadcast(await peer.receive())
            second = decode_user_broadcast(await peer.receive())
            assert (first.event, first.json_encoded) == ("news", True)
            assert (second.event, second.json_encoded, second.payload) == ("blob", False, b"\0\1")
        await listener.realtime.close()

    run(scenario)


def test_http_send_on_a_private_topic_needs_write_permission(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    allow_rooms(admin_conn)

    async def scenario() -> None:
        sender, session = await signed_in(gateway)
        await sender.realtime.set_auth(session.access_token)
        _, received = await _listen(sender, "room:3", {"private": True})
        await sender.channel("room:3", {"config": {"private": True}}).http_send("ok", {"n": 1})
        assert (await asyncio.wait_for(received.get(), WAIT))["event"] == "ok"
        hint_topic = sender.channel(f"user:{session.user.id}", {"config": {"private": True}})
        with pytest.raises(RealtimeHTTPError) as refused:
            await hint_topic.http_send("change", {"forged": True})
        assert refused.value.status == 403
        await sender.realtime.close()

    run(scenario)


def test_a_single_rest_broadcast_of_another_media_type_is_refused_with_415(
    gateway: RunningGateway,
) -> None:
    answer = _post(
        gateway, "/lobby/events/e", None, content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 415
    assert answer.json()["error"].startswith("Unsupported Media Type")
