"""The app tests: one local stack for the whole folder (each test signs in its own users), and
Textual's pilot on the asyncio backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.app_stack import AppStack, app_stack
from tests.support.cluster import Server, postgres_reachable_dir


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def stack(pg_server: Server, template_db: str) -> Iterator[AppStack]:
    with (
        postgres_reachable_dir("directorstudio-app-") as folder,
        app_stack(pg_server, template_db, folder) as running,
    ):
        yield running
