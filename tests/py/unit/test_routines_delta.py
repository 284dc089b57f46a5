"""The delta renderer turns one catalog snapshot into another with the fewest statements."""

from __future__ import annotations

from directorstudio.routines import delta
from directorstudio.routines.catalog import Acl, Function, Policy, Snapshot


def _policy(**changes: object) -> Policy:
    fields: dict[str, object] = {
        "key": "public.t.p",
        "table": "public.t",
        "name": "p",
        "permissive": True,
        "command": "r",
        "roles": ("authenticated",),
        "using": "(user_id = ( SELECT auth.uid() AS uid))",
        "check": None,
        "comment": None,
        "functions": ("auth.uid()",),
    }
    fields.update(changes)
    return Policy(**fields)  # type: ignore[arg-type]


def _function(**changes: object) -> Function:
    fields: dict[str, object] = {
        "signature": "public.f(uuid)",
        "order": 1,
        "schema": "public",
        "kind": "f",
        "definition": "CREATE OR REPLACE FUNCTION public.f(p uuid)\n RETURNS integer\n...\n",
        "result": "integer",
        "arguments": "p/",
        "defaults": 0,
        "acl": Acl(),
        "comment": None,
    }
    fields.update(changes)
    return Function(**fields)  # type: ignore[arg-type]


def test_a_grant_option_taken_away_is_revoked_alone() -> None:
    old = Acl({("authenticated", "EXECUTE", True), ("anon", "EXECUTE", False)})
    new = Acl({("authenticated", "EXECUTE", False), ("service_role", "EXECUTE", True)})
    assert delta._acl_delta("FUNCTION public.f(uuid)", old, new) == [
        "REVOKE EXECUTE ON FUNCTION public.f(uuid) FROM anon;",
        "REVOKE GRANT OPTION FOR EXECUTE ON FUNCTION public.f(uuid) FROM authenticated;",
        "GRANT EXECUTE ON FUNCTION public.f(uuid) TO service_role WITH GRANT OPTION;",
    ]


def test_an_identical_snapshot_needs_no_statement() -> None:
    snap = Snapshot(functions={"public.f(uuid)": _function()}, policies={"public.t.p": _policy()})
    assert delta.definitions(snap, snap) == []
    assert delta.privileges(snap, snap) == []


def test_a_policy_losing_its_with_check_is_recreated_and_one_changing_roles_is_altered() -> None:
    before = Snapshot(policies={"public.t.p": _policy(check="true")})
    assert [
        s.split("\n")[0]
        for s in delta.definitions(before, Snapshot(policies={"public.t.p": _policy()}))
    ] == ["DROP POLICY IF EXISTS p ON public.t;", "CREATE POLICY p ON public.t"]
    altered = delta.definitions(
        before, Snapshot(policies={"public.t.p": _policy(check="true", roles=("anon",))})
    )
    assert altered == [
        "ALTER POLICY p ON public.t\nTO anon\n"
        "USING ((user_id = ( SELECT auth.uid() AS uid)))\nWITH CHECK (true);"
    ]


def test_a_changed_result_type_drops_before_it_creates() -> None:
    before = Snapshot(functions={"public.f(uuid)": _function()})
    after = Snapshot(
        functions={"public.f(uuid)": _function(result="bigint", definition="CREATE f2")}
    )
    assert delta.definitions(before, after) == [
        "DROP FUNCTION IF EXISTS public.f(uuid);",
        "CREATE f2;",
    ]
