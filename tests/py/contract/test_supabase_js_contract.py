"""supabase-js on its default options passes the contract scenarios against ``directorstudio up``.

All scenarios run in one Node process (one start-up of Node and supabase-js); each test checks
one scenario's observations against what hosted Supabase answers (``scenarios.SCENARIOS``).
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.py.contract.scenarios import SCENARIOS, Scenario
from tests.py.contract.supabase_js import node_command, run_scenarios, scenario_scripts
from tests.py.contract.supabase_py import PY_SCENARIOS
from tests.support.stack_process import StackProcess


@pytest.fixture(scope="module")
def observed(contract_stack: StackProcess) -> dict[str, Any]:
    names = [scenario.name for scenario in SCENARIOS]
    return run_scenarios(contract_stack.url, contract_stack.keys()["anon_key"], names)


def test_every_scenario_is_written_for_both_clients() -> None:
    names = {scenario.name for scenario in SCENARIOS}
    assert scenario_scripts() == names
    assert set(PY_SCENARIOS) == names


def test_the_node_command_has_the_websocket_global_realtime_needs() -> None:
    probe = subprocess.run(
        [*node_command(), "-p", "typeof WebSocket"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "function"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.name for scenario in SCENARIOS])
def test_supabase_js_observes_what_hosted_supabase_answers(
    scenario: Scenario, observed: dict[str, Any]
) -> None:
    assert observed[scenario.name] == scenario.expected
