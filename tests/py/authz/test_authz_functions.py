"""Every HTTP function (the functions' router), through the gateway and called directly,
by every credential of the matrix."""

from __future__ import annotations

import json
import uuid
from typing import Any

from directorstudio.server.endpoints.access import SCHEDULER_HEADER
from tests.py.authz.conftest import Parties
from tests.py.authz.credentials import REFUSED, Credential, valid
from tests.py.authz.matrix import Send, only_own_rows, refused_without_effect
from tests.support.api_stack import ApiStack, SeededUser
from tests.support.routes import function_names

# Who may call each function: a signed-in user, or only the render provider / the scheduler.
USER_FUNCTIONS = frozenset({"enqueue_clip", "telemetry_batch"})
SERVICE_FUNCTIONS = frozenset(
    {"clip_webhook", "dispatch_clip", "retry_dispatch", "telemetry_rollup"}
)


def aimed_body(name: str, victim: SeededUser) -> dict[str, Any]:
    """A well-formed body for ``name`` that names the victim's rows wherever it can."""
    bodies: dict[str, dict[str, Any]] = {
        "enqueue_clip": {
            "job_id": str(uuid.uuid4()),
            "prompt": "taken over",
            "user_key": victim.user_id,
            "project_id": victim.project_id,
            "scene_draft_id": victim.scene_ids[0],
        },
        "telemetry_batch": {
            "batch_id": str(uuid.uuid4()),
            "events": [{"element": victim.marker, "attempts": 1, "successes": 1}],
        },
        "clip_webhook": {
            "job_id": victim.job_id,
            "status": "failed",
            "error": "taken over",
        },
        "retry_dispatch": {},
        "telemetry_rollup": {},
    }
    return bodies.get(name, {})


def _post(
    stack: ApiStack, base: str, name: str, body: dict[str, Any], headers: dict[str, str]
) -> Send:
    url = f"{base}/functions/v1/{name}"
    return lambda: stack.http.post(
        url, content=json.dumps(body), headers={**headers, "Content-Type": "application/json"}
    )


def _bases(stack: ApiStack) -> dict[str, str]:
    return {"through the gateway": stack.url, "directly": stack.functions_url}


def test_every_function_is_in_the_matrix() -> None:
    assert set(function_names()) == USER_FUNCTIONS | SERVICE_FUNCTIONS


def test_every_function_refuses_every_bad_credential_and_changes_nothing(
    stack: ApiStack, parties: Parties
) -> None:
    failures = []
    for name in function_names():
        body = aimed_body(name, parties.victim)
        calls = [
            (
                f"{name} {where} with {cred_name}",
                _post(stack, base, name, body, make(stack, parties.attacker).headers()),
            )
            for where, base in _bases(stack).items()
            for cred_name, make in REFUSED.items()
        ]
        failures += refused_without_effect(stack, calls)
    assert not failures, "\n".join(failures)


def test_every_service_function_refuses_a_signed_in_user(stack: ApiStack, parties: Parties) -> None:
    failures = []
    for name in sorted(SERVICE_FUNCTIONS):
        body = aimed_body(name, parties.victim)
        calls = [
            (
                f"{name} {where} with {user.marker}'s token",
                _post(stack, base, name, body, valid(stack, user).headers()),
            )
            for where, base in _bases(stack).items()
            for user in (parties.attacker, parties.victim)
        ]
        failures += refused_without_effect(stack, calls)
    assert not failures, "\n".join(failures)


def test_a_service_function_accepts_its_own_credential(stack: ApiStack) -> None:
    # The control row: the refusals above are about the credential, not a broken function.
    reply = _post(
        stack,
        stack.url,
        "retry_dispatch",
        {},
        {"apikey": stack.keys.anon_key, SCHEDULER_HEADER: stack.scheduler_secret},
    )()
    assert reply.status_code == 200, reply.text


def test_another_users_token_through_the_functions_changes_only_its_own_rows(
    stack: ApiStack, parties: Parties
) -> None:
    cred: Credential = valid(stack, parties.attacker)
    failures = []
    for name in sorted(USER_FUNCTIONS):
        body = aimed_body(name, parties.victim)
        calls = [
            (
                f"{name} {where} aimed at the victim's rows",
                json.dumps(body),
                _post(stack, base, name, body, cred.headers()),
            )
            for where, base in _bases(stack).items()
        ]
        failures += only_own_rows(stack, parties.attacker, parties.victim, calls)
    assert not failures, "\n".join(failures)
