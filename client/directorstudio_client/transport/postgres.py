"""A direct PostgreSQL transport: each call runs exactly as PostgREST would run it.

Per call, one transaction with PostgREST's request context as ``authenticated`` with the
user's claims, the function found and called as PostgREST finds and calls it, and errors
translated through the error table (all of it :mod:`directorstudio.contracts.postgrest`);
change hints come from ``LISTEN realtime_messages`` (what the platform bootstrap notifies),
filtered to the user's topic. For tests and tools; apps use
:class:`~directorstudio_client.transport.supabase.SupabaseTransport`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import psycopg

from directorstudio.contracts.postgrest import catalog, context, statements
from directorstudio.contracts.postgrest.errors import PostgrestError, translate
from directorstudio_client.transport.protocol import HintCallback


def user_claims(user_id: str, email: str | None = None) -> dict[str, Any]:
    """Supabase access-token claims for a signed-in user (what PostgREST puts in the setting)."""
    return context.claims_for_user(user_id, email=email)


class _ListenSubscription:
    def __init__(self, conninfo: str, topic: str, on_hint: HintCallback) -> None:
        self._topic = topic
        self._on_hint = on_hint
        self._stop = threading.Event()
        self._active = threading.Event()
        self._conn = psycopg.connect(conninfo, autocommit=True)
        self._conn.execute("LISTEN realtime_messages")
        # The local platform's writers notify only once a listener is announced.
        self._conn.execute(
            "INSERT INTO realtime.local_listeners (channel) VALUES ('realtime_messages')"
            " ON CONFLICT DO NOTHING"
        )
        self._active.set()
        self._thread = threading.Thread(target=self._run, name=f"hints {topic}", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        return self._active.is_set() and not self._stop.is_set()

    def _run(self) -> None:
        self._on_hint(self._topic)  # hints sent before LISTEN reached nobody: pull
        try:
            while not self._stop.is_set():
                for notice in self._conn.notifies(timeout=0.2):
                    try:
                        topic = json.loads(notice.payload).get("topic")
                    except ValueError:
                        continue
                    if topic == self._topic:
                        self._on_hint(topic)
        except psycopg.Error:
            pass
        finally:
            self._active.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._conn.close()


class PostgresTransport:
    """Calls contract functions over psycopg with PostgREST's per-request context."""

    def __init__(self, conninfo: str, claims: Mapping[str, Any]) -> None:
        self._conninfo = conninfo
        self._claims = dict(claims)
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._routines_by_name: dict[str, list[catalog.Routine]] = {}

    @classmethod
    def for_user(cls, conninfo: str, user_id: str, email: str | None = None) -> PostgresTransport:
        """A transport acting as the given signed-in user."""
        return cls(conninfo, user_claims(user_id, email))

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._conninfo)
        return self._conn

    def _routines(self, conn: psycopg.Connection[Any], name: str) -> list[catalog.Routine]:
        if name not in self._routines_by_name:
            self._routines_by_name[name] = catalog.load_routines(conn, name)
        return self._routines_by_name[name]

    def rpc(self, name: str, args: Mapping[str, Any]) -> Any:
        """Call ``public.<name>`` with named arguments, as the user, in one transaction."""
        with self._lock:
            try:
                conn = self._connection()
                with conn.transaction():
                    context.apply(conn, context.RequestContext("authenticated", self._claims))
                    routine = catalog.choose_routine(name, self._routines(conn, name), set(args))
                    statement = statements.call_statement(routine, args)
                    row = conn.execute(statement.query, statement.params).fetchone()
            except PostgrestError as error:
                raise error.as_error() from error
            except psycopg.Error as error:
                if self._conn is not None and self._conn.broken:
                    self._conn = None
                raise translate(error) from error
        if routine.returns_void or row is None or row[0] is None:
            return None
        return json.loads(row[0])

    def subscribe_hints(self, user_id: str, on_hint: HintCallback) -> _ListenSubscription:
        """Receive change hints for ``user:<user_id>`` through LISTEN."""
        try:
            return _ListenSubscription(self._conninfo, f"user:{user_id}", on_hint)
        except psycopg.Error as error:
            raise translate(error) from error

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
