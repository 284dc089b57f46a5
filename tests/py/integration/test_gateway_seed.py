"""The seed gives local development a demo account with the sample project."""

from __future__ import annotations

from typing import Any

import psycopg

from directorstudio.stack.stack import apply_seed
from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    clock_fixture,
    gateway_fixture,
    sync_client,
)


def test_the_seed_can_be_applied_twice(
    database_url: str, admin_conn: psycopg.Connection[Any]
) -> None:
    apply_seed(database_url)
    apply_seed(database_url)
    counts = admin_conn.execute(
        "SELECT (SELECT count(*) FROM auth.users), (SELECT count(*) FROM public.project_overview),"
        " (SELECT count(*) FROM public.scene_drafts)"
    ).fetchone()
    assert counts == (1, 1, 4)


def test_the_demo_user_signs_in_and_sees_the_sample_project(
    gateway: RunningGateway, database_url: str, admin_conn: psycopg.Connection[Any]
) -> None:
    apply_seed(database_url)
    client = sync_client(gateway)
    session = client.auth.sign_in_with_password(
        {"email": "demo@directorstudio.local", "password": "directorstudio"}
    )
    assert session.user is not None
    project = admin_conn.execute(
        "SELECT title, scene_count FROM public.project_overview WHERE user_id = %s",
        (session.user.id,),
    ).fetchone()
    assert project == ("Sample: The Lighthouse Keeper", 4)
