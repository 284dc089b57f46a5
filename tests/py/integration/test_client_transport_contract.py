"""One contract for every transport: answers, errors and change hints as PostgREST gives them.

Run here for PostgresTransport against a real database. SupabaseTransport needs an HTTP server
speaking PostgREST and realtime (the local stack's gateway); its run is added with the stack.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from directorstudio_client.transport.postgres import PostgresTransport
from directorstudio_client.transport.protocol import Transport

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from tests.support.client import create_user

Connect = Callable[[str], Transport]


@pytest.fixture(params=["postgres"])
def connect(request: pytest.FixtureRequest, database_url: str) -> Iterator[Connect]:
    """Opens a transport signed in as a given user."""
    opened: list[Transport] = []

    def opener(user_id: str) -> Transport:
        transport: Transport = PostgresTransport.for_user(database_url, user_id)
        opened.append(transport)
        return transport

    yield opener
    for transport in opened:
        transport.close()


@pytest.fixture
def owner(admin_conn: psycopg.Connection[Any]) -> str:
    return create_user(admin_conn, "owner@example.com")


def test_a_function_returning_a_row_answers_a_json_object(connect: Connect, owner: str):
    project_id = str(uuid.uuid4())
    row = connect(owner).rpc(
        "upsert_project_overview", {"p_project_id": project_id, "p_title": "Film"}
    )
    assert row["project_id"] == project_id
    assert row["title"] == "Film"
    assert row["user_id"] == owner
    assert row["version"] == 1


def test_a_set_returning_function_answers_a_json_array(connect: Connect, owner: str):
    transport = connect(owner)
    assert transport.rpc("list_project_overviews", {}) == []
    for title in ("One", "Two"):
        transport.rpc(
            "upsert_project_overview", {"p_project_id": str(uuid.uuid4()), "p_title": title}
        )
    assert sorted(p["title"] for p in transport.rpc("list_project_overviews", {})) == ["One", "Two"]


def test_a_jsonb_function_answers_its_document(connect: Connect, owner: str):
    page = connect(owner).rpc("sync_pull", {"p_cursor": None, "p_limit": 10})
    assert page["changes"] == []
    assert isinstance(page["cursor"], str)
    assert page["has_more"] is False


def test_calls_run_as_the_signed_in_user_under_row_level_security(
    connect: Connect, owner: str, admin_conn: psycopg.Connection[Any]
):
    other = create_user(admin_conn, "other@example.com")
    project_id = str(uuid.uuid4())
    connect(owner).rpc("upsert_project_overview", {"p_project_id": project_id, "p_title": "Mine"})
    assert connect(other).rpc("list_project_overviews", {}) == []
    with pytest.raises(DirectorStudioError) as raised:
        connect(other).rpc("rename_project", {"p_project_id": project_id, "p_title": "Theirs"})
    assert raised.value.code == ErrorCode.NOT_FOUND


def test_a_contract_error_carries_its_code_message_and_json_detail(connect: Connect, owner: str):
    transport = connect(owner)
    project_id = str(uuid.uuid4())
    scene_id = str(uuid.uuid4())
    transport.rpc("upsert_project_overview", {"p_project_id": project_id})
    transport.rpc(
        "create_scene_draft",
        {"p_id": scene_id, "p_project_id": project_id, "p_prompt_text": "a", "p_duration": 3.0},
    )
    transport.rpc(
        "update_scene_draft",
        {"p_id": scene_id, "p_base_version": 1, "p_patch": {"prompt_text": "b"}},
    )
    with pytest.raises(DirectorStudioError) as raised:
        transport.rpc(
            "update_scene_draft",
            {"p_id": scene_id, "p_base_version": 1, "p_patch": {"prompt_text": "c"}},
        )
    assert raised.value.code == ErrorCode.VERSION_CONFLICT
    assert raised.value.message
    assert raised.value.detail["fields"] == ["prompt_text"]
    assert raised.value.detail["current"]["prompt_text"] == "b"


def test_invalid_input_is_reported_as_invalid_input(connect: Connect, owner: str):
    with pytest.raises(DirectorStudioError) as raised:
        connect(owner).rpc(
            "upsert_project_overview", {"p_project_id": str(uuid.uuid4()), "p_title": ""}
        )
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert raised.value.permanent


def test_an_unknown_function_is_not_found(connect: Connect, owner: str):
    with pytest.raises(DirectorStudioError) as raised:
        connect(owner).rpc("no_such_function", {})
    assert raised.value.code == ErrorCode.NOT_FOUND


def test_an_unreachable_server_is_unavailable_and_transient():
    transport = PostgresTransport.for_user(
        "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", str(uuid.uuid4())
    )
    with pytest.raises(DirectorStudioError) as raised:
        transport.rpc("list_project_overviews", {})
    assert raised.value.code == ErrorCode.UNAVAILABLE
    assert not raised.value.permanent


def test_a_change_of_the_users_row_arrives_as_a_hint_and_another_users_does_not(
    connect: Connect, owner: str, admin_conn: psycopg.Connection[Any]
):
    other = create_user(admin_conn, "other@example.com")
    hints: list[str] = []
    arrived = threading.Event()

    def on_hint(topic: str) -> None:
        hints.append(topic)
        arrived.set()

    subscription = connect(owner).subscribe_hints(owner, on_hint)
    try:
        assert subscription.active
        connect(other).rpc("upsert_project_overview", {"p_project_id": str(uuid.uuid4())})
        connect(owner).rpc("upsert_project_overview", {"p_project_id": str(uuid.uuid4())})
        assert arrived.wait(timeout=10)
        assert hints == [f"user:{owner}"]
    finally:
        subscription.close()
    assert not subscription.active
