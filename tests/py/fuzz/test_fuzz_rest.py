"""The REST surface under fuzzing: every rpc function of the exposed schema (enumerated from
the catalog) and every table endpoint the gateway serves (``/rest/v1/<table>`` for each exposed
table of the catalog) answer fuzzed requests with 2xx or a documented 4xx, and a refused call
changes no row of any table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from tests.py.fuzz import strategies
from tests.py.fuzz.conftest import FuzzData, budget
from tests.py.fuzz.harness import checked_call, encode, preview, run_cases
from tests.support.api_stack import ApiStack
from tests.support.catalog import RpcFunction, exposed_tables, rpc_functions
from tests.support.oracle import rest_problem
from tests.support.routes import serves


def arguments(function: RpcFunction, known: Sequence[str]) -> st.SearchStrategy[Any]:
    """Named arguments: all well-formed (so calls reach the functions' logic), or each one
    hostile at times (every bad-input class), defaults sometimes left out, a required one
    sometimes missing, an unknown one sometimes added; or a body that is not an object."""
    careful = {
        arg.name: strategies.well_formed(arg.type, arg.name, known) for arg in function.arguments
    }
    hostile = {
        arg.name: strategies.sql_value(arg.type, arg.name, known) for arg in function.arguments
    }
    names = {arg.name for arg in function.required}

    def shaped(values: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
        required = {name: values[name] for name in values if name in names}
        optional = {name: values[name] for name in values if name not in names}
        return st.fixed_dictionaries(required, optional=optional)

    partial = st.fixed_dictionaries({}, optional={**hostile, "p_unknown": strategies.json_values})
    not_an_object = st.one_of(
        st.lists(strategies.json_values, max_size=3), strategies.scalars, st.binary(max_size=40)
    )
    return st.one_of(
        shaped(careful),
        shaped(careful),
        shaped(careful),
        shaped(hostile),
        shaped(hostile),
        partial,
        not_an_object,
    )


def test_every_rpc_function_answers_fuzzed_arguments_only_with_documented_codes(
    stack: ApiStack, fuzz_data: FuzzData
) -> None:
    functions = rpc_functions(stack.admin)
    assert functions, "the catalog lists no rpc function"
    failures: dict[str, str] = {}
    for function in functions:
        token = stack.keys.service_role_key if function.service_only else fuzz_data.token
        headers = {
            "apikey": stack.keys.anon_key,
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        }
        url = f"{stack.url}/rest/v1/rpc/{function.name}"

        def case(body: Any, url: str = url, headers: dict[str, str] = headers) -> None:
            raw = body if isinstance(body, bytes) else encode(body)
            checked_call(
                "rpc",
                stack,
                rest_problem,
                lambda: stack.http.post(url, content=raw, headers=headers),
                raw,
                f"POST {url} {preview(raw)}",
            )

        failure = run_cases(arguments(function, fuzz_data.known_ids), case, budget("rpc"))
        if failure is not None:
            failures[function.name] = failure
    assert not failures, "\n\n".join(f"{name}: {text}" for name, text in failures.items())


METHODS = ("GET", "POST", "PATCH", "DELETE")
FILTERS = st.dictionaries(
    st.sampled_from(["id", "user_id", "select", "order", "limit", "offset", "title", "or"]),
    st.one_of(
        st.sampled_from(["eq.1", "gt.0", "is.null", "*", "id.desc", "in.(1,2)", "(a.eq.1)"]),
        st.text(max_size=20),
    ),
    max_size=3,
)


def served_endpoints(tables: list[str]) -> list[tuple[str, str]]:
    """(method, table) for every exposed table and method the gateway has a handler for."""
    return [
        (method, table)
        for table in tables
        for method in METHODS
        if serves(method, f"/rest/v1/{table}")
    ]


def test_the_route_check_tells_a_served_endpoint_from_an_unserved_one() -> None:
    assert serves("POST", "/rest/v1/rpc/list_clip_jobs")
    assert not serves("DELETE", "/rest/v1/rpc/list_clip_jobs")
    assert serves("PATCH", "/rest/v1/project_overview")
    assert not serves("PUT", "/rest/v1/project_overview")
    assert not serves("GET", "/rest/v1/no/such/route")


def test_every_served_table_endpoint_answers_fuzzed_requests_only_with_documented_codes(
    stack: ApiStack, fuzz_data: FuzzData
) -> None:
    tables = exposed_tables(stack.admin)
    assert {"project_overview", "scene_drafts", "clip_jobs", "credits_ledger"} <= set(tables)
    headers = {
        "apikey": stack.keys.anon_key,
        "Authorization": f"Bearer {fuzz_data.token}",
        "Content-Type": "application/json",
    }
    requests = st.fixed_dictionaries(
        {"query": FILTERS, "body": st.one_of(strategies.json_values, strategies.garbage)}
    )
    failures: dict[str, str] = {}
    for method, table in served_endpoints(tables):
        url = f"{stack.url}/rest/v1/{table}"

        def case(request: dict[str, Any], method: str = method, url: str = url) -> None:
            raw = encode(request["body"]) if method in ("POST", "PATCH") else b""
            checked_call(
                "tables",
                stack,
                rest_problem,
                lambda: stack.http.request(
                    method, url, params=request["query"], content=raw, headers=headers
                ),
                raw,
                f"{method} {url}?{request['query']} {preview(raw)}",
            )

        failure = run_cases(requests, case, budget("table"))
        if failure is not None:
            failures[f"{method} {table}"] = failure
    assert not failures, "\n\n".join(f"{name}: {text}" for name, text in failures.items())
