"""The gateway's realtime websocket serves supabase-py's async realtime client.

Joins of private topics are decided by the RLS policies of realtime.messages (a user may join
only user:<own id>); messages come from the database's realtime.send.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import psycopg
import pytest
from realtime import RealtimeSubscribeStates

from supabase import acreate_client
from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    async_client_options,
    clock_fixture,
    gateway_fixture,
)

WAIT = 10.0


async def _client(gateway: RunningGateway) -> Any:
    return await acreate_client(gateway.url, gateway.keys.anon_key, options=async_client_options())


async def _subscribe(
    client: Any, topic: str, private: bool = True
) -> tuple[Any, asyncio.Queue[Any], tuple[Any, Exception | None]]:
    received: asyncio.Queue[Any] = asyncio.Queue()
    state: asyncio.Future[tuple[Any, Exception | None]] = asyncio.get_running_loop().create_future()
    channel = client.channel(topic, {"config": {"private": private}})
    channel.on_broadcast("*", received.put_nowait)

    def on_state(status: Any, error: Exception | None) -> None:
        if not state.done():
            state.set_result((status, error))

    await channel.subscribe(on_state)
    return channel, received, await asyncio.wait_for(state, WAIT)


def _send(
    admin_conn: psycopg.Connection[Any], topic: str, event: str, payload: Any, private: bool
) -> None:
    admin_conn.execute(
        "SELECT realtime.send(%s::jsonb, %s, %s, %s)", (json.dumps(payload), event, topic, private)
    )


def run(test: Callable[[], Any]) -> Any:
    return asyncio.run(test())


def test_a_user_joins_the_own_private_topic_and_receives_database_broadcasts(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    async def scenario() -> None:
        client = await _client(gateway)
        user = (await client.auth.sign_in_anonymously()).user
        _, received, (status, error) = await _subscribe(client, f"user:{user.id}")
        assert status == RealtimeSubscribeStates.SUBSCRIBED, error
        _send(admin_conn, f"user:{user.id}", "change", {"table": "t", "id": "1"}, True)
        message = await asyncio.wait_for(received.get(), WAIT)
        assert message["event"] == "change"
        assert message["payload"] == {"table": "t", "id": "1"}
        await client.realtime.close()

    run(scenario)


def test_a_write_through_rpc_sends_a_change_hint_to_the_owner(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        client = await _client(gateway)
        user = (await client.auth.sign_in_anonymously()).user
        _, received, (status, _) = await _subscribe(client, f"user:{user.id}")
        assert status == RealtimeSubscribeStates.SUBSCRIBED
        project_id = "7a000000-0000-4000-8000-000000000001"
        await client.rpc("import_sample_project", {"p_project_id": project_id}).execute()
        message = await asyncio.wait_for(received.get(), WAIT)
        assert message["event"] == "change"
        # One hint per user per transaction, naming the transaction's last change: the import
        # writes the project, then its scenes.
        hint = message["payload"]
        assert hint["table"] in ("project_overview", "scene_drafts")
        if hint["table"] == "project_overview":
            assert hint["id"] == project_id
        await client.realtime.close()

    run(scenario)


def test_joining_another_users_topic_is_refused_as_unauthorized(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        other = await _client(gateway)
        other_user = (await other.auth.sign_in_anonymously()).user
        client = await _client(gateway)
        await client.auth.sign_in_anonymously()
        _, _, (status, error) = await _subscribe(client, f"user:{other_user.id}")
        assert status == RealtimeSubscribeStates.CHANNEL_ERROR
        assert "Unauthorized: You do not have permissions to read from this Channel topic" in str(
            error
        )
        await client.realtime.close()

    run(scenario)


def test_the_anon_key_cannot_join_a_private_topic(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        client = await _client(gateway)
        _, _, (status, error) = await _subscribe(client, "user:someone")
        assert status == RealtimeSubscribeStates.CHANNEL_ERROR
        assert "Unauthorized" in str(error)
        await client.realtime.close()

    run(scenario)


def test_private_messages_reach_only_private_channels(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    async def scenario() -> None:
        client = await _client(gateway)
        _, received, (status, _) = await _subscribe(client, "lobby", private=False)
        assert status == RealtimeSubscribeStates.SUBSCRIBED
        _send(admin_conn, "lobby", "secret", {"n": 1}, True)
        _send(admin_conn, "lobby", "public", {"n": 2}, False)
        message = await asyncio.wait_for(received.get(), WAIT)
        assert message["event"] == "public"
        await client.realtime.close()

    run(scenario)


async def _raw_socket(
    gateway: RunningGateway, session: aiohttp.ClientSession
) -> aiohttp.ClientWebSocketResponse:
    url = gateway.url.replace("http", "ws", 1) + "/realtime/v1/websocket"
    return await session.ws_connect(url, params={"apikey": gateway.keys.anon_key, "vsn": "1.0.0"})


async def _join(
    socket: aiohttp.ClientWebSocketResponse, topic: str, token: str, ref: str
) -> dict[str, Any]:
    await socket.send_json(
        {
            "event": "phx_join",
            "topic": f"realtime:{topic}",
            "payload": {
                "config": {"broadcast": {"self": False}, "private": True, "postgres_changes": []},
                "access_token": token,
            },
            "ref": ref,
            "join_ref": ref,
        }
    )
    reply: dict[str, Any] = await socket.receive_json(timeout=WAIT)
    return reply


def test_a_heartbeat_is_answered_on_topic_phoenix_with_the_same_ref(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await _raw_socket(gateway, session)
            await socket.send_json(
                {"event": "heartbeat", "topic": "phoenix", "payload": {}, "ref": "42"}
            )
            reply = await socket.receive_json(timeout=WAIT)
            assert reply["event"] == "phx_reply"
            assert reply["topic"] == "phoenix"
            assert reply["ref"] == "42"
            assert reply["payload"]["status"] == "ok"
            await socket.close()

    run(scenario)


def test_the_join_reply_echoes_postgres_changes_bindings_with_ids(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await _raw_socket(gateway, session)
            binding = {"event": "*", "schema": "public", "table": "clip_jobs"}
            await socket.send_json(
                {
                    "event": "phx_join",
                    "topic": "realtime:lobby",
                    "payload": {
                        "config": {"private": False, "postgres_changes": [binding]},
                        "access_token": gateway.keys.anon_key,
                    },
                    "ref": "1",
                    "join_ref": "1",
                }
            )
            reply = await socket.receive_json(timeout=WAIT)
            assert reply["payload"]["status"] == "ok"
            assert reply["payload"]["response"]["postgres_changes"] == [{**binding, "id": 1}]
            await socket.close()

    run(scenario)


def test_a_refreshed_token_of_another_user_closes_the_channel(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        owner = await _client(gateway)
        owner_session = (await owner.auth.sign_in_anonymously()).session
        intruder = await _client(gateway)
        intruder_session = (await intruder.auth.sign_in_anonymously()).session
        topic = f"user:{owner_session.user.id}"
        async with aiohttp.ClientSession() as session:
            socket = await _raw_socket(gateway, session)
            joined = await _join(socket, topic, owner_session.access_token, "1")
            assert joined["payload"]["status"] == "ok"
            await socket.send_json(
                {
                    "event": "access_token",
                    "topic": f"realtime:{topic}",
                    "payload": {"access_token": intruder_session.access_token},
                    "ref": None,
                }
            )
            system = await socket.receive_json(timeout=WAIT)
            assert system["event"] == "system"
            assert system["payload"]["status"] == "error"
            closed = await socket.receive_json(timeout=WAIT)
            assert closed["event"] == "phx_close"
            await socket.close()

    run(scenario)


def test_after_phx_leave_the_topic_delivers_nothing_more(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    async def scenario() -> None:
        client = await _client(gateway)
        session = (await client.auth.sign_in_anonymously()).session
        topic = f"user:{session.user.id}"
        async with aiohttp.ClientSession() as http:
            socket = await _raw_socket(gateway, http)
            assert (await _join(socket, topic, session.access_token, "1"))["payload"][
                "status"
            ] == "ok"
            await socket.send_json(
                {"event": "phx_leave", "topic": f"realtime:{topic}", "payload": {}, "ref": "2"}
            )
            left = await socket.receive_json(timeout=WAIT)
            assert left["event"] == "phx_reply"
            assert left["ref"] == "2"
            await socket.send_json(
                {
                    "event": "phx_join",
                    "topic": "realtime:lobby",
                    "payload": {"config": {"private": False}, "access_token": session.access_token},
                    "ref": "3",
                    "join_ref": "3",
                }
            )
            assert (await socket.receive_json(timeout=WAIT))["ref"] == "3"
            _send(admin_conn, topic, "change", {"n": 1}, True)
            _send(admin_conn, "lobby", "news", {"n": 2}, False)
            message = await socket.receive_json(timeout=WAIT)
            assert message["topic"] == "realtime:lobby"
            body = message["payload"]
            assert (body["type"], body["event"], body["payload"]) == ("broadcast", "news", {"n": 2})
            assert body["meta"]["id"]  # the database message's id, as hosted Realtime sends it
            await socket.close()

    run(scenario)


def test_a_websocket_without_a_valid_api_key_is_refused(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        url = gateway.url.replace("http", "ws", 1) + "/realtime/v1/websocket"
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
                await session.ws_connect(url, params={"apikey": "nope", "vsn": "1.0.0"})
            assert raised.value.status == 401

    run(scenario)


def test_after_a_token_refresh_the_channel_keeps_delivering(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    async def scenario() -> None:
        client = await _client(gateway)
        user = (await client.auth.sign_in_anonymously()).user
        _, received, (status, _) = await _subscribe(client, f"user:{user.id}")
        assert status == RealtimeSubscribeStates.SUBSCRIBED
        refreshed = (await client.auth.refresh_session()).session
        await client.realtime.set_auth(refreshed.access_token)
        _send(admin_conn, f"user:{user.id}", "change", {"after": "refresh"}, True)
        message = await asyncio.wait_for(received.get(), WAIT)
        assert message["payload"] == {"after": "refresh"}
        await client.realtime.close()

    run(scenario)


def test_frames_beyond_the_input_limits_are_ignored_and_the_socket_keeps_serving(
    gateway: RunningGateway,
) -> None:
    bad_frames = [
        "[" * 100_000 + "]" * 100_000,
        '{"event": "heartbeat", "topic": "phoenix", "payload": {"n": NaN}, "ref": "1"}',
        '{"event": "heartbeat", "topic": "phoenix\\u0000", "payload": {}, "ref": "2"}',
    ]

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await _raw_socket(gateway, session)
            for frame in bad_frames:
                await socket.send_str(frame)
            await socket.send_json(
                {"event": "heartbeat", "topic": "phoenix", "payload": {}, "ref": "3"}
            )
            reply = await socket.receive_json(timeout=WAIT)
            assert (reply["event"], reply["ref"]) == ("phx_reply", "3")
            await socket.close()

    run(scenario)


def test_a_join_the_database_cannot_check_is_refused_and_the_socket_keeps_serving(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    async def scenario() -> None:
        client = await _client(gateway)
        session = (await client.auth.sign_in_anonymously()).session
        admin_conn.execute("ALTER TABLE realtime.messages RENAME TO messages_elsewhere")
        async with aiohttp.ClientSession() as http:
            socket = await _raw_socket(gateway, http)
            refused = await _join(socket, f"user:{session.user.id}", session.access_token, "1")
            assert refused["payload"] == {
                "status": "error",
                "response": {"reason": "Realtime was unable to connect to the project database"},
            }
            await socket.send_json(
                {"event": "heartbeat", "topic": "phoenix", "payload": {}, "ref": "2"}
            )
            assert (await socket.receive_json(timeout=WAIT))["ref"] == "2"
            await socket.close()

    run(scenario)
