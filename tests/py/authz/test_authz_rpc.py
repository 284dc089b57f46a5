"""Every rpc function of the catalog by every credential of the matrix."""

from __future__ import annotations

import json
from typing import Any

from tests.py.authz.conftest import Parties
from tests.py.authz.credentials import REFUSED, WITHOUT_APIKEY, Credential, valid
from tests.py.authz.matrix import Send, only_own_rows, refused_without_effect
from tests.py.authz.targets import aimed_arguments, victim_rows
from tests.support.api_stack import ApiStack
from tests.support.catalog import RpcFunction, rpc_functions


def _call(
    stack: ApiStack, method: str, function: RpcFunction, args: dict[str, Any], cred: Credential
) -> Send:
    url = f"{stack.url}/rest/v1/rpc/{function.name}"
    if method == "GET":
        query = {
            name: value if isinstance(value, str) else json.dumps(value)
            for name, value in args.items()
        }
        return lambda: stack.http.get(url, params=query, headers=cred.headers())
    return lambda: stack.http.post(url, json=args, headers=cred.headers())


def test_every_rpc_function_refuses_every_bad_credential_and_changes_nothing(
    stack: ApiStack, parties: Parties
) -> None:
    functions = rpc_functions(stack.admin)
    rows = victim_rows(stack.admin, parties.victim.user_id)
    failures = []
    for function in functions:
        _, args = next(aimed_arguments(function, rows))
        calls = [
            (
                f"{method} rpc/{function.name} with {name}",
                _call(stack, method, function, args, make(stack, parties.attacker)),
            )
            for name, make in (REFUSED | WITHOUT_APIKEY).items()
            for method in ("POST", "GET")
        ]
        failures += refused_without_effect(stack, calls)
    assert not failures, "\n".join(failures)


def test_every_service_only_rpc_function_refuses_a_signed_in_user(
    stack: ApiStack, parties: Parties
) -> None:
    service_only = [f for f in rpc_functions(stack.admin) if f.service_only]
    assert {"apply_clip_event", "grant_credits", "run_due_rollups"} <= {
        f.name for f in service_only
    }
    rows = victim_rows(stack.admin, parties.victim.user_id)
    failures = []
    for function in service_only:
        calls = [
            (
                f"rpc/{function.name} ({table}) with {user.marker}'s token",
                _call(
                    stack,
                    "POST",
                    function,
                    args,
                    Credential("a user's token", stack.keys.anon_key, user.token),
                ),
            )
            for table, args in aimed_arguments(function, rows)
            for user in (parties.attacker, parties.victim)
        ]
        failures += refused_without_effect(stack, calls)
    assert not failures, "\n".join(failures)


def test_another_users_token_reads_and_changes_only_its_own_rows_over_rpc(
    stack: ApiStack, parties: Parties
) -> None:
    user_functions = [f for f in rpc_functions(stack.admin) if f.user_callable]
    rows = victim_rows(stack.admin, parties.victim.user_id)
    assert {table for table, _ in rows} >= {"project_overview", "scene_drafts", "clip_jobs"}
    cred = valid(stack, parties.attacker)
    failures = []
    for function in user_functions:
        calls = [
            (
                f"rpc/{function.name} aimed at the victim's {table} row {args}",
                json.dumps(args),
                _call(stack, "POST", function, args, cred),
            )
            for table, args in aimed_arguments(function, rows)
        ]
        failures += only_own_rows(stack, parties.attacker, parties.victim, calls)
    assert not failures, "\n".join(failures)


def test_the_leak_check_sees_the_victims_rows_when_they_are_returned(
    stack: ApiStack, parties: Parties
) -> None:
    own = valid(stack, parties.victim)
    function = next(f for f in rpc_functions(stack.admin) if f.name == "list_project_overviews")
    send = _call(stack, "POST", function, {}, own)
    failures = only_own_rows(stack, parties.attacker, parties.victim, [("own list", "{}", send)])
    assert len(failures) == 1
    assert "victim's data" in failures[0]
