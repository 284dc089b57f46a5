"""One ``directorstudio up`` on free ports for the whole contract suite, stopped at its end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.cluster import postgres_reachable_dir
from tests.support.stack_process import StackPorts, StackProcess, start_stack


@pytest.fixture(scope="package")
def contract_stack() -> Iterator[StackProcess]:
    with postgres_reachable_dir("directorstudio-contract-") as base:
        started = start_stack(base / "stack", StackPorts.free())
        try:
            yield started
        finally:
            assert started.stop() == 0, started.log.read_text()
