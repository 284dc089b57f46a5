"""Realtime's REST broadcast in the matrix: nobody but the database reaches a user's private
topic. A bad credential is refused (401); a trusted token that may not write the topic (the
anon key, another user) is refused by the single endpoint (403) and left out silently by the
batch endpoint (202, as hosted Realtime answers): in no case does the message arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from tests.py.authz.conftest import Parties
from tests.py.authz.credentials import REFUSED, WITHOUT_APIKEY, Credential, valid
from tests.py.authz.matrix import ROUTE_ROWS, Send, refused_without_effect
from tests.support.api_stack import ApiStack
from tests.support.realtime import decode_user_broadcast, raw_socket, send_from_database

BROADCAST_ROW = "realtime: broadcasting to a private user topic"
ENDPOINTS = sorted(path for (_, path), row in ROUTE_ROWS.items() if row == BROADCAST_ROW)


def _batch(stack: ApiStack, cred: Credential, topic: str) -> httpx.Response:
    message = {"topic": topic, "event": "change", "payload": {"forged": True}, "private": True}
    return stack.http.post(
        f"{stack.url}/realtime/v1/api/broadcast",
        headers=cred.headers(),
        json={"messages": [message]},
    )


def _single(stack: ApiStack, cred: Credential, topic: str) -> httpx.Response:
    return stack.http.post(
        f"{stack.url}/realtime/v1/api/broadcast/{topic}/events/change",
        params={"private": "true"},
        headers=cred.headers(),
        json={"forged": True},
    )


def _call(
    send: Callable[[ApiStack, Credential, str], httpx.Response],
    stack: ApiStack,
    cred: Credential,
    topic: str,
) -> Send:
    return lambda: send(stack, cred, topic)


def test_both_broadcast_endpoints_are_in_the_matrix() -> None:
    assert ENDPOINTS == [
        "/realtime/v1/api/broadcast",
        "/realtime/v1/api/broadcast/{topic}/events/{event}",
    ]


def test_a_bad_credential_is_refused_by_both_endpoints(stack: ApiStack, parties: Parties) -> None:
    topic = f"user:{parties.victim.user_id}"
    untrusted = {
        name: make for name, make in (REFUSED | WITHOUT_APIKEY).items() if name != "anon key only"
    }
    calls = [
        (f"{send.__name__} with {name}", _call(send, stack, make(stack, parties.attacker), topic))
        for send in (_batch, _single)
        for name, make in untrusted.items()
    ]
    failures = refused_without_effect(stack, calls)
    assert not failures, "\n".join(failures)


def test_no_trusted_caller_but_the_database_reaches_a_users_private_topic(
    stack: ApiStack, parties: Parties
) -> None:
    topic = f"user:{parties.victim.user_id}"
    callers = [REFUSED["anon key only"](stack, parties.attacker), valid(stack, parties.attacker)]

    async def scenario() -> list[Any]:
        async with raw_socket(stack.gateway, "2.0.0") as victim:
            joined = await victim.join(topic, parties.victim.token, {"private": True})
            assert joined[4]["status"] == "ok"
            answers = []
            for cred in callers:
                answers.append((await asyncio.to_thread(_batch, stack, cred, topic)).status_code)
                single = await asyncio.to_thread(_single, stack, cred, topic)
                answers.append((single.status_code, single.json()))
            send_from_database(stack.admin, topic, "marker", {}, True)
            # Each answer came after its delivery: a forged message would arrive before this one.
            assert decode_user_broadcast(await victim.receive()).event == "marker"
            return answers

    refused = (403, {"message": "Unauthorized"})
    assert asyncio.run(scenario()) == [202, refused, 202, refused]
