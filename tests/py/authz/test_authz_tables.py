"""Every table endpoint of the catalog by every credential of the matrix: refused credentials
change nothing, and another user's token reads and changes only its own rows however the
request is aimed at the victim's rows (filters on the victim's ids, inserts and upserts of the
victim's rows)."""

from __future__ import annotations

from typing import Any

from tests.py.authz.conftest import Parties
from tests.py.authz.credentials import REFUSED, WITHOUT_APIKEY, Credential, valid
from tests.py.authz.matrix import Send, only_own_rows, refused_without_effect
from tests.py.authz.targets import Row, victim_rows
from tests.support.api_stack import ApiStack
from tests.support.catalog import exposed_tables

TAKEOVER_TEXT = "taken over"


def _send(
    stack: ApiStack, method: str, path: str, cred: Credential, body: Any = None, prefer: str = ""
) -> Send:
    headers = {**cred.headers(), "Prefer": prefer or "return=representation"}
    url = f"{stack.url}/rest/v1/{path}"
    return lambda: stack.http.request(method, url, json=body, headers=headers)


def _owner_column(table: str) -> str:
    return "id" if table == "app_users" else "user_id"


def _takeover(row: Row, attacker_id: str, owner: str) -> Row:
    """The victim's row with every text field overwritten and, once, the owner swapped."""
    changed = {
        key: TAKEOVER_TEXT if isinstance(value, str) else value for key, value in row.items()
    }
    for key in ("id", "project_id", "user_id"):
        if key in row:
            changed[key] = row[key]
    changed[owner] = attacker_id
    return changed


def _aimed_calls(
    stack: ApiStack, table: str, row: Row, victim_id: str, attacker_id: str, cred: Credential
) -> list[tuple[str, str, Send]]:
    owner = _owner_column(table)
    aimed = f"{table}?{owner}=eq.{victim_id}"
    texts = {key: TAKEOVER_TEXT for key, value in row.items() if isinstance(value, str)}
    takeover = _takeover(row, attacker_id, owner)
    return [
        (f"GET {aimed}", aimed, _send(stack, "GET", aimed, cred)),
        (
            f"PATCH {aimed}",
            aimed,
            _send(stack, "PATCH", aimed, cred, texts or {owner: attacker_id}),
        ),
        (f"DELETE {aimed}", aimed, _send(stack, "DELETE", aimed, cred)),
        (f"POST the victim's {table} row", victim_id, _send(stack, "POST", table, cred, row)),
        (
            f"upsert over the victim's {table} row",
            victim_id,
            _send(stack, "POST", table, cred, takeover, "resolution=merge-duplicates"),
        ),
    ]


def test_every_table_endpoint_refuses_every_bad_credential_and_changes_nothing(
    stack: ApiStack, parties: Parties
) -> None:
    rows = dict(victim_rows(stack.admin, parties.victim.user_id))
    failures = []
    for table in exposed_tables(stack.admin):
        row = rows.get(table, {})
        owner = _owner_column(table)
        aimed = f"{table}?{owner}=eq.{parties.victim.user_id}"
        for name, make in (REFUSED | WITHOUT_APIKEY).items():
            cred = make(stack, parties.attacker)
            calls = [
                (f"GET {aimed} with {name}", _send(stack, "GET", aimed, cred)),
                (f"POST {table} with {name}", _send(stack, "POST", table, cred, row)),
                (f"PATCH {aimed} with {name}", _send(stack, "PATCH", aimed, cred, row)),
                (f"DELETE {aimed} with {name}", _send(stack, "DELETE", aimed, cred)),
            ]
            failures += refused_without_effect(stack, calls)
    assert not failures, "\n".join(failures)


def test_another_users_token_reads_and_changes_only_its_own_rows_over_the_tables(
    stack: ApiStack, parties: Parties
) -> None:
    rows = victim_rows(stack.admin, parties.victim.user_id)
    assert {table for table, _ in rows} >= {"project_overview", "scene_drafts", "clip_jobs"}
    cred = valid(stack, parties.attacker)
    failures = []
    for table, row in rows:
        calls = _aimed_calls(
            stack, table, row, parties.victim.user_id, parties.attacker.user_id, cred
        )
        failures += only_own_rows(stack, parties.attacker, parties.victim, calls)
    assert not failures, "\n".join(failures)


def test_the_leak_check_sees_the_victims_rows_read_over_a_table(
    stack: ApiStack, parties: Parties
) -> None:
    own = valid(stack, parties.victim)
    send = _send(stack, "GET", "project_overview", own)
    failures = only_own_rows(stack, parties.attacker, parties.victim, [("own rows", "", send)])
    assert len(failures) == 1
    assert "victim's data" in failures[0]
