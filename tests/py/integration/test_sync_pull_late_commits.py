"""Pull never loses a row whose transaction committed after a later-numbered one.

These tests use real concurrent transactions on separate connections: the late commit is the
case a plain "highest id seen" cursor gets wrong.
"""

from __future__ import annotations

import random
import threading
import uuid
from contextlib import ExitStack

import psycopg

from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.sync import Conn, create_user, pull_cycle, pull_once

INSERT_PROJECT = (
    "INSERT INTO public.project_overview (project_id, user_id, title)"
    " VALUES (%s, %s, %s) RETURNING sync_txid::text::bigint"
)


def _open_write(stack: ExitStack, conn: Conn, user: uuid.UUID, project: uuid.UUID) -> int:
    """Start a request transaction that inserts a project and stays open; its transaction id."""
    stack.enter_context(request_transaction(conn, "authenticated", claims_for_user(str(user))))
    row = conn.execute(INSERT_PROJECT, (project, user, "Late")).fetchone()
    assert row is not None
    return int(row[0])


def test_a_transaction_committing_after_a_later_numbered_one_is_pulled_next_time(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "late@example.com")
    early, late = uuid.uuid4(), uuid.uuid4()
    with (
        psycopg.connect(database_url, autocommit=True) as c1,
        psycopg.connect(database_url, autocommit=True) as c2,
        psycopg.connect(database_url, autocommit=True) as puller,
    ):
        t1, t2 = ExitStack(), ExitStack()
        txid1 = _open_write(t1, c1, user, early)
        txid2 = _open_write(t2, c2, user, late)
        assert txid1 < txid2

        t2.close()  # T2, the later-numbered transaction, commits first
        first, cursor = pull_cycle(puller, user, None)
        assert [c["id"] for c in first] == [str(late)]

        t1.close()  # then T1 commits
        second, _ = pull_cycle(puller, user, cursor)
        assert [c["id"] for c in second] == [str(early)]

        # A cursor that only remembered the highest transaction id seen would have skipped it.
        highest_seen = max(int(c["row"]["sync_txid"]) for c in first)
        assert int(second[0]["row"]["sync_txid"]) < highest_seen


def test_a_late_commit_during_a_paged_cycle_arrives_in_the_next_cycle(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "paged@example.com")
    committed = [uuid.uuid4() for _ in range(3)]
    for project in committed:
        admin_conn.execute(INSERT_PROJECT, (project, user, "Early"))
    pending = uuid.uuid4()
    with (
        psycopg.connect(database_url, autocommit=True) as writer,
        psycopg.connect(database_url, autocommit=True) as puller,
    ):
        stack = ExitStack()
        _open_write(stack, writer, user, pending)
        page = pull_once(puller, user, None, limit=1)
        assert page["has_more"] is True
        stack.close()  # commits while the cycle is half read
        rest, cursor = pull_cycle(puller, user, page["cursor"], limit=1)
        assert {c["id"] for c in page["changes"] + rest} == {str(p) for p in committed}
        following, _ = pull_cycle(puller, user, cursor)
        assert [c["id"] for c in following] == [str(pending)]


class _Puller(threading.Thread):
    """Pulls again and again until told to stop, keeping the newest version of every row."""

    def __init__(self, url: str, user: uuid.UUID, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.user, self.stop_event = url, user, stop
        self.seen: dict[str, int] = {}
        self.cycles = 0
        self.error: BaseException | None = None
        self.cursor: str | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                while not self.stop_event.is_set():
                    self.pull(conn)
        except BaseException as error:
            self.error = error

    def pull(self, conn: Conn) -> None:
        changes, self.cursor = pull_cycle(conn, self.user, self.cursor, limit=7)
        self.cycles += 1
        for change in changes:
            self.seen[change["id"]] = max(self.seen.get(change["id"], 0), change["version"])


def _writer(
    url: str, user: uuid.UUID, rounds: int, barrier: threading.Barrier, errors: list[BaseException]
) -> None:
    rng = random.Random(str(user) + threading.current_thread().name)
    mine: list[uuid.UUID] = []
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for round_number in range(rounds):
                with request_transaction(conn, "authenticated", claims_for_user(str(user))):
                    project = uuid.uuid4()
                    conn.execute(INSERT_PROJECT, (project, user, f"r{round_number}"))
                    if mine:
                        conn.execute(
                            "UPDATE public.project_overview SET title = %s,"
                            " deleted_at = CASE WHEN %s THEN now() END WHERE project_id = %s",
                            (f"u{round_number}", rng.random() < 0.2, rng.choice(mine)),
                        )
                    mine.append(project)
                    # Everyone holds an open transaction here; the commits then race.
                    barrier.wait(timeout=60)
    except BaseException as error:
        errors.append(error)
        barrier.abort()


def test_many_racing_writers_lose_nothing_to_repeated_pulls(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "race@example.com")
    writers, rounds = 6, 25
    barrier = threading.Barrier(writers)
    stop = threading.Event()
    errors: list[BaseException] = []
    puller = _Puller(database_url, user, stop)
    threads = [
        threading.Thread(target=_writer, args=(database_url, user, rounds, barrier, errors))
        for _ in range(writers)
    ]
    puller.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    puller.join()
    assert errors == []
    assert puller.error is None
    with psycopg.connect(database_url, autocommit=True) as conn:
        puller.pull(conn)  # the last pull after every writer committed

    server = {
        str(project_id): version
        for project_id, version in admin_conn.execute(
            "SELECT project_id, version FROM public.project_overview WHERE user_id = %s", (user,)
        ).fetchall()
    }
    assert len(server) == writers * rounds
    assert puller.cycles > 1  # it pulled while the writers raced, and once after
    assert puller.seen == server
