"""One contract for every transport: answers, errors and change hints as PostgREST gives them.

PostgresTransport runs against the test database directly; SupabaseTransport (supabase-py)
runs against the local stack's gateway (PostgREST rpc, GoTrue sign-up, realtime) over the same
database.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client.transport.postgres import PostgresTransport
from directorstudio_client.transport.protocol import Transport
from directorstudio_client.transport.supabase import SupabaseTransport
from tests.support.client import create_user
from tests.support.gateway import running_gateway

SignUp = Callable[[str], tuple[Transport, str]]


@pytest.fixture(params=["postgres", "supabase"])
def sign_up(
    request: pytest.FixtureRequest,
    database_url: str,
    admin_conn: psycopg.Connection[Any],
    tmp_path: Path,
) -> Iterator[SignUp]:
    """Signs up a new user and returns a transport acting as that user, and the user's id."""
    opened: list[Transport] = []
    with ExitStack() as stack:
        if request.param == "supabase":
            gateway = stack.enter_context(
                running_gateway(database_url, render_dir=tmp_path / "renders")
            )

        def signer(email: str) -> tuple[Transport, str]:
            transport: Transport
            if request.param == "postgres":
                user_id = create_user(admin_conn, email)
                transport = PostgresTransport.for_user(database_url, user_id)
            else:
                supabase = SupabaseTransport(
                    gateway.url, gateway.keys.anon_key, auto_refresh_token=False
                )
                user_id = supabase.sign_up(email, "correct horse battery")
                transport = supabase
            opened.append(transport)
            return transport, user_id

        yield signer
        for transport in opened:
            transport.close()


def test_a_function_returning_a_row_answers_a_json_object(sign_up: SignUp):
    transport, owner = sign_up("owner@example.com")
    project_id = str(uuid.uuid4())
    row = transport.rpc("upsert_project_overview", {"p_project_id": project_id, "p_title": "Film"})
    assert row["project_id"] == project_id
    assert row["title"] == "Film"
    assert row["user_id"] == owner
    assert row["version"] == 1


def test_a_set_returning_function_answers_a_json_array(sign_up: SignUp):
    transport, _owner = sign_up("owner@example.com")
    assert transport.rpc("list_project_overviews", {}) == []
    for title in ("One", "Two"):
        transport.rpc(
            "upsert_project_overview", {"p_project_id": str(uuid.uuid4()), "p_title": title}
        )
    assert sorted(p["title"] for p in transport.rpc("list_project_overviews", {})) == ["One", "Two"]


def test_a_jsonb_function_answers_its_document(sign_up: SignUp):
    transport, _owner = sign_up("owner@example.com")
    page = transport.rpc("sync_pull", {"p_cursor": None, "p_limit": 10})
    assert page["changes"] == []
    assert isinstance(page["cursor"], str)
    assert page["has_more"] is False


def test_calls_run_as_the_signed_in_user_under_row_level_security(sign_up: SignUp):
    mine, _owner = sign_up("owner@example.com")
    theirs, _other = sign_up("other@example.com")
    project_id = str(uuid.uuid4())
    mine.rpc("upsert_project_overview", {"p_project_id": project_id, "p_title": "Mine"})
    assert theirs.rpc("list_project_overviews", {}) == []
    with pytest.raises(DirectorStudioError) as raised:
        theirs.rpc("rename_project", {"p_project_id": project_id, "p_title": "Theirs"})
    assert raised.value.code == ErrorCode.NOT_FOUND


def test_a_contract_error_carries_its_code_message_and_json_detail(sign_up: SignUp):
    transport, _owner = sign_up("owner@example.com")
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


def test_invalid_input_is_reported_as_invalid_input(sign_up: SignUp):
    transport, _owner = sign_up("owner@example.com")
    with pytest.raises(DirectorStudioError) as raised:
        transport.rpc("upsert_project_overview", {"p_project_id": str(uuid.uuid4()), "p_title": ""})
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert raised.value.permanent


def test_an_unknown_function_is_not_found(sign_up: SignUp):
    transport, _owner = sign_up("owner@example.com")
    with pytest.raises(DirectorStudioError) as raised:
        transport.rpc("no_such_function", {})
    assert raised.value.code == ErrorCode.NOT_FOUND


@pytest.mark.parametrize("kind", ["postgres", "supabase"])
def test_an_unreachable_server_is_unavailable_and_transient(kind: str):
    transport: Transport = (
        PostgresTransport.for_user(
            "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", str(uuid.uuid4())
        )
        if kind == "postgres"
        else SupabaseTransport("http://127.0.0.1:1", "anon-key", auto_refresh_token=False)
    )
    with pytest.raises(DirectorStudioError) as raised:
        transport.rpc("list_project_overviews", {})
    assert raised.value.code == ErrorCode.UNAVAILABLE
    assert not raised.value.permanent


def test_a_change_of_the_users_row_arrives_as_a_hint_and_another_users_does_not(
    sign_up: SignUp,
):
    mine, owner = sign_up("owner@example.com")
    theirs, _other = sign_up("other@example.com")
    hints: list[str] = []
    arrived = threading.Event()

    def on_hint(topic: str) -> None:
        hints.append(topic)
        arrived.set()

    subscription = mine.subscribe_hints(owner, on_hint)
    try:
        assert subscription.active
        # Joining is itself a hint: what changed before it was announced to nobody.
        assert arrived.wait(timeout=10)
        assert hints == [f"user:{owner}"]
        hints.clear()
        arrived.clear()
        theirs.rpc("upsert_project_overview", {"p_project_id": str(uuid.uuid4())})
        mine.rpc("upsert_project_overview", {"p_project_id": str(uuid.uuid4())})
        assert arrived.wait(timeout=10)
        assert hints == [f"user:{owner}"]
    finally:
        subscription.close()
    assert not subscription.active
