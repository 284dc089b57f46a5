"""The fuzz suite's stack, data and hypothesis profiles.

``DIRECTORSTUDIO_FUZZ_PROFILE=short`` (the default, what CI runs: a few hundred cases) or
``full`` (more than 10,000 cases: ``scripts/fuzz.sh``). Hypothesis keeps no example database,
so nothing is written into the checkout; a failing case is printed with its inputs.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.configuration import set_hypothesis_home_dir

from tests.py.fuzz.harness import COUNTER
from tests.support.api_stack import ApiStack, api_stack, seed_user
from tests.support.cluster import Server

# Hypothesis keeps caches even without an example database: in a temporary folder, never the
# checkout.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="directorstudio-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)

PROFILE_VARIABLE = "DIRECTORSTUDIO_FUZZ_PROFILE"
# Cases per rpc function, per HTTP function and per served table endpoint.
BUDGETS = {
    "short": {"rpc": 8, "function": 30, "table": 20},
    "full": {"rpc": 280, "function": 500, "table": 300},
}

for _name in BUDGETS:
    settings.register_profile(
        f"directorstudio-{_name}",
        database=None,
        deadline=None,
        derandomize=_name == "short",
        print_blob=True,
        # CI reports the first failing case as drawn; the full run also shrinks it.
        phases=list(Phase) if _name == "full" else [Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
    )


def profile() -> str:
    """The selected profile (``short`` unless the environment says otherwise)."""
    name = os.environ.get(PROFILE_VARIABLE, "short")
    if name not in BUDGETS:
        raise pytest.UsageError(f"{PROFILE_VARIABLE} must be one of {sorted(BUDGETS)}")
    return name


settings.load_profile(f"directorstudio-{profile()}")


def budget(kind: str) -> int:
    """How many cases the selected profile runs per target of ``kind``."""
    return BUDGETS[profile()][kind]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COUNTER.counts:
        total = sum(COUNTER.counts.values())
        parts = ", ".join(f"{suite} {count}" for suite, count in sorted(COUNTER.counts.items()))
        answers = ", ".join(f"{kind} {n}" for kind, n in sorted(COUNTER.statuses.items()))
        terminalreporter.write_line(
            f"fuzz cases run ({profile()} profile): {total} ({parts}); answers: {answers}"
        )


@dataclass
class FuzzData:
    """The fuzzing user and what it owns, plus another user's rows the fuzzer aims at too."""

    user_id: str
    token: str
    known_ids: list[str]


@pytest.fixture(scope="module", name="stack")
def stack_fixture(
    pg_server: Server, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiStack]:
    folder: Path = tmp_path_factory.mktemp("fuzz-stack")
    with api_stack(pg_server, template_db, folder) as running:
        yield running


@pytest.fixture(scope="module", name="fuzz_data")
def fuzz_data_fixture(stack: ApiStack) -> FuzzData:
    own = seed_user(stack, "fuzz")
    others = seed_user(stack, "other")
    return FuzzData(own.user_id, own.token, own.ids + others.ids)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Oversize and deeply nested inputs are generated on purpose; hypothesis warns of their size.
    for item in items:
        if "tests/py/fuzz" in str(item.path):
            item.add_marker(
                pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
            )
