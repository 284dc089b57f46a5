"""One stack for the whole module, a victim with rows of every kind and an attacker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.api_stack import ApiStack, SeededUser, api_stack, seed_user
from tests.support.cluster import Server


@dataclass(frozen=True)
class Parties:
    """The user whose rows are aimed at, and the user who aims."""

    victim: SeededUser
    attacker: SeededUser


@pytest.fixture(scope="module", name="stack")
def stack_fixture(
    pg_server: Server, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiStack]:
    with api_stack(pg_server, template_db, tmp_path_factory.mktemp("authz-stack")) as running:
        yield running


@pytest.fixture(scope="module", name="parties")
def parties_fixture(stack: ApiStack) -> Parties:
    return Parties(seed_user(stack, "victim-secret"), seed_user(stack, "attacker-own"))
