"""Every bad-input class on every HTTP function: a documented JSON 4xx, and nothing written.

Each function gets each class through functions-framework's test client, with valid
credentials, so only the body is wrong. Where a function has no field of a class's kind (no date
in enqueue_clip, no field at all in retry_dispatch) the bad value goes into a field it does not
have, which its model forbids. The scheduler entry points take bodies of at most 4 KiB, so an
over-long string or array there is a body that is too large.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import flask.testing
import psycopg
import pytest

from directorstudio.contracts.clips import MAX_CLIP_BODY_BYTES
from directorstudio.contracts.telemetry import MAX_BATCH_BYTES, MAX_SCHEDULER_BODY_BYTES
from tests.support.bad_input import (
    CLASSES,
    Raw,
    body_with,
    non_finite,
    over_long_array,
    oversize,
    raw_body,
)
from tests.support.checksums import database_checksums
from tests.support.cluster import Server, fresh_database
from tests.support.functions import (
    SCHEDULER_SECRET,
    Harness,
    create_user,
    grant_credits,
    harness,
    make_client,
    signed_headers,
    user_token,
)

DEEP = Raw("[" * 1000 + "]" * 1000)
JOB = str(uuid.uuid4())


@dataclass
class World:
    """The functions over one database shared by this module's tests (each writes nothing)."""

    harness: Harness
    token: str
    user: str
    clients: dict[str, flask.testing.FlaskClient]


@pytest.fixture(scope="module")
def world(
    pg_server: Server, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with fresh_database(pg_server, template_db) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            user = create_user(conn)
            grant_credits(conn, user, 5)
        with harness(url, tmp_path_factory.mktemp("renders")) as h:
            clients = {
                "enqueue_clip": h.enqueue,
                "clip_webhook": h.webhook,
                "telemetry_batch": h.telemetry,
                "retry_dispatch": make_client("enqueue_clip", "retry_dispatch"),
                "telemetry_rollup": make_client("telemetry_batch", "telemetry_rollup"),
            }
            yield World(h, user_token(user), str(user), clients)


Expected = tuple[list[bytes], set[int]]


def _enqueue_cases(user: str) -> dict[str, Expected]:
    base = {"job_id": JOB, "prompt": "A fox in the snow", "user_key": user}
    return {
        "nul_character": ([body_with(base, "prompt", "a\x00b")], {400}),
        "deep_nesting": ([body_with(base, "prompt", DEEP)], {400}),
        "non_finite_number": (non_finite(base, "prompt"), {400}),
        "long_string": ([body_with(base, "prompt", "x" * 2001)], {422}),
        "long_array": ([body_with(base, "prompt", over_long_array())], {400}),
        "invalid_uuid": ([body_with(base, "job_id", "not-a-uuid")], {422}),
        "invalid_date": ([body_with(base, "day", "2026-02-30")], {422}),
        "invalid_number": ([body_with(base, "prompt", 10**400)], {422}),
        "wrong_type": ([body_with(base, "prompt", {"text": "x"}), raw_body("[]")], {400, 422}),
        "oversize_body": ([oversize(MAX_CLIP_BODY_BYTES)], {413}),
    }


def _webhook_cases() -> dict[str, Expected]:
    base = {"job_id": JOB, "status": "processing", "progress": 10}
    return {
        "nul_character": ([body_with(base, "error", "boom\x00")], {400}),
        "deep_nesting": ([body_with(base, "error", DEEP)], {400}),
        "non_finite_number": (non_finite(base, "progress"), {400}),
        "long_string": ([body_with(base, "error", "x" * 2001)], {422}),
        "long_array": ([body_with(base, "error", over_long_array())], {400}),
        "invalid_uuid": ([body_with(base, "job_id", "not-a-uuid")], {422}),
        "invalid_date": ([body_with(base, "day", "2026-02-30")], {422}),
        "invalid_number": (
            [body_with(base, "progress", 101), body_with(base, "progress", 10**400)],
            {422},
        ),
        "wrong_type": ([body_with(base, "status", 5), raw_body("[]")], {400, 422}),
        "oversize_body": ([oversize(MAX_CLIP_BODY_BYTES)], {413}),
    }


def _telemetry_cases() -> dict[str, Expected]:
    event = {"element": "lighting", "attempts": 2, "successes": 1, "day": "2026-12-01"}
    base = {"batch_id": str(uuid.uuid4()), "events": [event]}
    return {
        "nul_character": ([body_with(base, "events.0.element", "a\x00")], {400}),
        "deep_nesting": ([body_with(base, "events.0.element", DEEP)], {400}),
        "non_finite_number": (non_finite(base, "events.0.attempts"), {400}),
        "long_string": ([body_with(base, "events.0.element", "x" * 101)], {422}),
        "long_array": ([body_with(base, "events", over_long_array())], {400}),
        "invalid_uuid": ([body_with(base, "batch_id", "not-a-uuid")], {422}),
        "invalid_date": ([body_with(base, "events.0.day", "2026-02-30")], {422}),
        "invalid_number": (
            [
                body_with(base, "events.0.attempts", -1),
                body_with(base, "events.0.attempts", 10**10),
                body_with(base, "events.0.attempts", 10**400),
            ],
            {422},
        ),
        "wrong_type": ([body_with(base, "events", {"a": 1}), raw_body('"x"')], {400, 422}),
        "oversize_body": ([oversize(MAX_BATCH_BYTES)], {413}),
    }


def _scheduler_cases(base: dict[str, Any], date_field: str) -> dict[str, Expected]:
    too_long = MAX_SCHEDULER_BODY_BYTES + 1
    return {
        "nul_character": ([body_with(base, date_field, "2026-12-01\x00")], {400}),
        "deep_nesting": ([body_with(base, date_field, DEEP)], {400}),
        "non_finite_number": (non_finite(base, date_field), {400}),
        "long_string": ([body_with(base, date_field, "x" * too_long)], {413}),
        "long_array": ([body_with(base, date_field, over_long_array())], {413}),
        "invalid_uuid": ([body_with(base, "job_id", "not-a-uuid")], {422}),
        "invalid_date": ([body_with(base, date_field, "2026-02-30")], {422}),
        "invalid_number": ([body_with(base, date_field, 10**400)], {422}),
        "wrong_type": ([body_with(base, date_field, {"y": 2026}), raw_body("[]")], {400, 422}),
        "oversize_body": ([oversize(MAX_SCHEDULER_BODY_BYTES)], {413}),
    }


def _cases(path: str, world: World) -> dict[str, Expected]:
    if path == "enqueue_clip":
        return _enqueue_cases(world.user)
    if path == "clip_webhook":
        return _webhook_cases()
    if path == "telemetry_batch":
        return _telemetry_cases()
    if path == "telemetry_rollup":
        return _scheduler_cases({"day": "2026-12-01"}, "day")
    return _scheduler_cases({}, "note")


def _headers(path: str, world: World, body: bytes) -> dict[str, str]:
    if path == "clip_webhook":
        return signed_headers(body, at=world.harness.clock())
    headers = {"Content-Type": "application/json"}
    if path in ("retry_dispatch", "telemetry_rollup"):
        headers["X-DirectorStudio-Scheduler-Secret"] = SCHEDULER_SECRET
    else:
        headers["Authorization"] = f"Bearer {world.token}"
    return headers


PATHS = ("enqueue_clip", "clip_webhook", "telemetry_batch", "retry_dispatch", "telemetry_rollup")


@pytest.mark.parametrize("bad_class", CLASSES)
@pytest.mark.parametrize("path", PATHS)
def test_each_bad_input_class_is_a_documented_json_4xx_that_writes_nothing(
    world: World, path: str, bad_class: str
) -> None:
    bodies, statuses = _cases(path, world)[bad_class]
    before = database_checksums(world.harness.database_url)
    for body in bodies:
        response = world.clients[path].post("/", data=body, headers=_headers(path, world, body))
        assert response.status_code in statuses, (body[:80], response.get_data()[:300])
        assert response.mimetype == "application/json"
        expected = "payload_too_large" if response.status_code == 413 else "invalid_input"
        assert response.get_json()["code"] == expected
    assert database_checksums(world.harness.database_url) == before
