"""Every pull cycle delivers each changed row exactly once, at any page size.

Generated histories of transactions (several rows per transaction, projects and scenes mixed,
edits and soft deletes, another user's rows in between) are pulled cycle after cycle with a
generated page size, as the user and as the service role without a user. The pages must hold
exactly the rows changed since the previous cycle, each once, in their newest version, and
the pages of a cycle must follow one another in (sync_txid, table, id) order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.sync import Conn, create_user

# One write: a new project with n scenes, an edit of the k-th known row, or a soft delete of
# the k-th known scene.
WRITES = st.one_of(
    st.tuples(st.just("project"), st.integers(0, 4)),
    st.tuples(st.just("edit"), st.integers(0, 50)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
)
# A round of transactions (each a list of writes, some of another user), then one pull cycle.
ROUNDS = st.lists(
    st.lists(st.tuples(st.booleans(), st.lists(WRITES, min_size=1, max_size=4)), max_size=4),
    min_size=1,
    max_size=3,
)

Key = tuple[str, str]


@pytest.fixture
def conns(database_url: str) -> Iterator[tuple[Conn, Conn]]:
    with (
        psycopg.connect(database_url, autocommit=True) as admin,
        psycopg.connect(database_url, autocommit=True) as puller,
    ):
        yield admin, puller


class History:
    """Writes as the table owner, and what each row of each user looks like now."""

    def __init__(self, admin: Conn, users: list[uuid.UUID]) -> None:
        self.admin = admin
        self.users = users
        self.rows: dict[uuid.UUID, list[Key]] = {u: [] for u in users}
        self.changed: dict[uuid.UUID, set[Key]] = {u: set() for u in users}

    def transaction(self, user: uuid.UUID, writes: list[tuple[str, int]]) -> None:
        with self.admin.transaction():
            for kind, n in writes:
                self._write(user, kind, n)

    def _write(self, user: uuid.UUID, kind: str, n: int) -> None:
        known = self.rows[user]
        if kind == "project":
            project = uuid.uuid4()
            self.admin.execute(
                "INSERT INTO public.project_overview (project_id, user_id, title)"
                " VALUES (%s, %s, 'Generated')",
                (project, user),
            )
            self._touched(user, ("project_overview", str(project)))
            for k in range(n):
                scene = uuid.uuid4()
                self.admin.execute(
                    "INSERT INTO public.scene_drafts"
                    " (id, user_id, project_id, order_index, prompt_text, duration)"
                    " VALUES (%s, %s, %s, %s, 'Scene', 2)",
                    (scene, user, project, k),
                )
                self._touched(user, ("scene_drafts", str(scene)))
            # The totals trigger wrote the project again in this transaction.
        elif known and kind == "edit":
            table, row = known[n % len(known)]
            if table == "project_overview":
                self.admin.execute(
                    "UPDATE public.project_overview SET title = title || '!' WHERE project_id = %s",
                    (row,),
                )
                self._touched(user, (table, row))
            else:
                self._edit_scene(user, row, "prompt_text = prompt_text || '!'")
        elif kind == "delete" and (scenes := [k for k in known if k[0] == "scene_drafts"]):
            self._edit_scene(user, scenes[n % len(scenes)][1], "deleted_at = now()")

    def _edit_scene(self, user: uuid.UUID, scene: str, assignment: str) -> None:
        project = self.admin.execute(
            f"UPDATE public.scene_drafts SET {assignment} WHERE id = %s RETURNING project_id",
            (scene,),
        ).fetchone()
        assert project is not None
        self._touched(user, ("scene_drafts", scene))
        # A scene's write recounts its project's totals, which stamps the project too.
        self._touched(user, ("project_overview", str(project[0])))

    def _touched(self, user: uuid.UUID, key: Key) -> None:
        if key not in self.rows[user]:
            self.rows[user].append(key)
        self.changed[user].add(key)

    def versions(self, users: list[uuid.UUID]) -> dict[Key, int]:
        """The current version of every row of ``users``."""
        found = self.admin.execute(
            "SELECT 'project_overview', project_id::text, version FROM public.project_overview"
            " WHERE user_id = ANY(%s)"
            " UNION ALL SELECT 'scene_drafts', id::text, version FROM public.scene_drafts"
            " WHERE user_id = ANY(%s)",
            (users, users),
        ).fetchall()
        return {(t, i): v for t, i, v in found}


def _page(conn: Conn, role: str, claims: dict[str, Any], cursor: str | None, limit: int) -> Any:
    with request_transaction(conn, role, claims):
        row = conn.execute("SELECT public.sync_pull(%s, %s)", (cursor, limit)).fetchone()
    assert row is not None
    return row[0]


def _cycle(
    conn: Conn, role: str, claims: dict[str, Any], cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str]:
    """One pull cycle; checks each page's size and that pages follow in key order."""
    changes: list[dict[str, Any]] = []
    last: tuple[int, str, str] | None = None
    while True:
        page = _page(conn, role, claims, cursor, limit)
        keys = [(int(c["row"]["sync_txid"]), c["table"], c["id"]) for c in page["changes"]]
        assert len(keys) <= limit
        if keys and last is not None:
            assert last < min(keys), "a page starts before the previous page's last row"
        if keys:
            last = max(keys)
        changes.extend(page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, cursor
        assert len(keys) == limit, "a page that is not the cycle's last is full"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rounds=ROUNDS, limit=st.integers(1, 7), as_service=st.booleans())
def test_each_cycle_delivers_every_changed_row_once_in_its_newest_version_at_any_page_size(
    conns: tuple[Conn, Conn], rounds: list[list[tuple[bool, list[tuple[str, int]]]]],
    limit: int, as_service: bool,
) -> None:  # fmt: skip
    admin, puller = conns
    user, other = create_user(admin), create_user(admin)
    history = History(admin, [user, other])
    # As the service role without a user, a pull covers every user: check it on two fresh
    # users only by keeping to their rows.
    pulled_users = [user, other] if as_service else [user]
    role, claims = (
        ("service_role", {"role": "service_role"})
        if as_service
        else ("authenticated", claims_for_user(str(user)))
    )
    cursor: str | None = None
    for transactions in rounds:
        for by_other, writes in transactions:
            history.transaction(other if by_other else user, writes)
        changes, cursor = _cycle(puller, role, claims, cursor, limit)
        mine = [c for c in changes if uuid.UUID(c["row"]["user_id"]) in pulled_users]
        keys = [(c["table"], c["id"]) for c in mine]
        assert len(keys) == len(set(keys)), "a row came twice in one cycle"
        expected = set().union(*(history.changed[u] for u in pulled_users))
        assert set(keys) == expected
        versions = history.versions(pulled_users)
        assert {(c["table"], c["id"]): c["version"] for c in mine} == {
            k: versions[k] for k in expected
        }
        assert all(c["deleted"] == (c["row"]["deleted_at"] is not None) for c in mine)
        for u in pulled_users:
            history.changed[u].clear()
