"""supabase-py passes the same contract scenarios as supabase-js against ``directorstudio up``."""

from __future__ import annotations

import asyncio

import pytest

from tests.py.contract.scenarios import SCENARIOS, Scenario
from tests.py.contract.supabase_py import PY_SCENARIOS, Context
from tests.support.stack_process import StackProcess


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.name for scenario in SCENARIOS])
def test_supabase_py_observes_what_hosted_supabase_answers(
    scenario: Scenario, contract_stack: StackProcess
) -> None:
    context = Context(contract_stack.url, contract_stack.keys()["anon_key"])
    observed = asyncio.run(PY_SCENARIOS[scenario.name](context))
    assert observed == scenario.expected
