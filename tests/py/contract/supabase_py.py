"""Every contract scenario written with supabase-py, by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.py.contract.supabase_py_auth import AUTH_SCENARIOS
from tests.py.contract.supabase_py_realtime import REALTIME_SCENARIOS
from tests.py.contract.supabase_py_scenarios import BASIC_SCENARIOS, Context

PY_SCENARIOS: dict[str, Callable[[Context], Awaitable[dict[str, Any]]]] = {
    **AUTH_SCENARIOS,
    **BASIC_SCENARIOS,
    **REALTIME_SCENARIOS,
}
