"""The realtime websocket speaks Phoenix serializer 2.0.0 as hosted Realtime does: JSON array
frames ``[join_ref, ref, topic, event, payload]`` and binary user broadcasts (a client pushes
kind 3, receives kind 4), the default of supabase-js."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg
import pytest
from websockets.exceptions import InvalidStatus

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
    send_from_database,
    signed_in,
    user_broadcast_push,
)


def test_a_heartbeat_is_answered_with_an_array_reply_on_topic_phoenix(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        async with raw_socket(gateway, "2.0.0") as socket:
            await socket.heartbeat("7")
            reply = await socket.receive()
            assert reply == [None, "7", "phoenix", "phx_reply", {"status": "ok", "response": {}}]

    run(scenario)


def test_joining_a_public_channel_is_answered_with_the_join_and_push_refs(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        async with raw_socket(gateway, "2.0.0") as socket:
            reply = await socket.join("lobby", gateway.keys.anon_key, ref="4")
            assert reply[:4] == ["4", "4", "realtime:lobby", "phx_reply"]
            assert reply[4] == {"status": "ok", "response": {"postgres_changes": []}}

    run(scenario)


def test_joining_another_users_private_topic_is_refused(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        _, owner = await signed_in(gateway)
        _, intruder = await signed_in(gateway)
        async with raw_socket(gateway, "2.0.0") as socket:
            topic = f"user:{owner.user.id}"
            reply = await socket.join(topic, intruder.access_token, {"private": True})
            assert reply[4]["status"] == "error"
            assert reply[4]["response"]["reason"] == (
                "Unauthorized: You do not have permissions to read from this Channel topic: "
                + topic
            )
            joined = await socket.join(topic, owner.access_token, {"private": True}, ref="2")
            assert joined[4]["status"] == "ok"

    run(scenario)


def test_a_database_broadcast_reaches_a_2_0_0_socket_as_a_binary_user_broadcast(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    async def scenario() -> None:
        _, session = await signed_in(gateway)
        topic = f"user:{session.user.id}"
        async with raw_socket(gateway, "2.0.0") as socket:
            joined = await socket.join(topic, session.access_token, {"private": True})
            assert joined[4]["status"] == "ok"
            send_from_database(admin_conn, topic, "change", {"table": "scene_drafts"}, True)
            frame = decode_user_broadcast(await socket.receive())
            assert (frame.topic, frame.event, frame.json_encoded) == (
                f"realtime:{topic}",
                "change",
                True,
            )
            assert json.loads(frame.payload) == {"table": "scene_drafts"}
            assert frame.metadata is not None
            assert frame.metadata["id"]

    run(scenario)


def test_a_binary_broadcast_push_reaches_2_0_0_peers_as_binary_and_1_0_0_peers_as_json(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        listener = await client(gateway)
        received: asyncio.Queue[Any] = asyncio.Queue()
        subscribed: asyncio.Queue[Any] = asyncio.Queue()
        channel = listener.channel("lobby")
        channel.on_broadcast("*", received.put_nowait)
        await channel.subscribe(lambda status, _: subscribed.put_nowait(status))
        assert (await asyncio.wait_for(subscribed.get(), WAIT)).value == "SUBSCRIBED"
        async with (
            raw_socket(gateway, "2.0.0") as sender,
            raw_socket(gateway, "2.0.0") as peer,
        ):
            for socket in (sender, peer):
                assert (await socket.join("lobby", gateway.keys.anon_key))[4]["status"] == "ok"
            raw = bytes([0, 1, 2, 255])
            await sender.send_bytes(
                user_broadcast_push("realtime:lobby", "blob", raw, json_encoded=False)
            )
            text = json.dumps({"x": 1, "name": "Zoë"}).encode()
            await sender.send_bytes(
                user_broadcast_push("realtime:lobby", "cursor", text, json_encoded=True)
            )
            first = decode_user_broadcast(await peer.receive())
            assert (first.event, first.json_encoded, first.payload) == ("blob", False, raw)
            second = decode_user_broadcast(await peer.receive())
            assert (second.event, json.loads(second.payload)) == ("cursor", {"x": 1, "name": "Zoë"})
            # 1.0.0 cannot carry a binary payload: the JSON one is the first to arrive there.
            message = await asyncio.wait_for(received.get(), WAIT)
            assert (message["event"], message["payload"]) == ("cursor", {"x": 1, "name": "Zoë"})
        await listener.realtime.close()

    run(scenario)


def test_a_json_broadcast_frame_reaches_2_0_0_peers_as_an_array_frame(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        async with (
            raw_socket(gateway, "1.0.0") as sender,
            raw_socket(gateway, "2.0.0") as peer,
        ):
            joined = await sender.join("lobby", gateway.keys.anon_key)
            assert joined["payload"]["status"] == "ok"
            assert (await peer.join("lobby", gateway.keys.anon_key))[4]["status"] == "ok"
            payload = {"type": "broadcast", "event": "wave", "payload": {"n": 1}}
            await sender.push("realtime:lobby", "broadcast", payload)
            assert await peer.receive() == [None, None, "realtime:lobby", "broadcast", payload]

    run(scenario)


def test_a_push_to_a_topic_not_joined_is_answered_unmatched_topic(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        async with raw_socket(gateway, "2.0.0") as socket:
            await socket.push("realtime:nowhere", "broadcast", {"event": "x"}, "3", "3")
            reply = await socket.receive()
            assert reply == [
                "3",
                "3",
                "realtime:nowhere",
                "phx_reply",
                {"status": "error", "response": {"reason": "unmatched topic"}},
            ]

    run(scenario)


def test_private_channels_of_the_same_name_as_a_public_one_hear_only_private_messages(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    allow_rooms(admin_conn)

    async def scenario() -> None:
        _, session = await signed_in(gateway)
        async with (
            raw_socket(gateway, "2.0.0") as private,
            raw_socket(gateway, "2.0.0") as public,
        ):
            joined = await private.join("room:1", session.access_token, {"private": True})
            assert joined[4]["status"] == "ok"
            assert (await public.join("room:1", session.access_token))[4]["status"] == "ok"
            send_from_database(admin_conn, "room:1", "to-public", {}, False)
            send_from_database(admin_conn, "room:1", "to-private", {}, True)
            assert decode_user_broadcast(await private.receive()).event == "to-private"
            assert decode_user_broadcast(await public.receive()).event == "to-public"

    run(scenario)


def test_an_unsupported_serializer_version_is_refused(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with raw_socket(gateway, "3.0.0"):
                pass
        assert refused.value.response.status_code == 400

    run(scenario)
