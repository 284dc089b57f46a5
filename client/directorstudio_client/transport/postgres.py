"""A direct PostgreSQL transport: each call runs exactly as PostgREST would run it.

Per call, one transaction with ``set_config('role', 'authenticated', true)`` and
``set_config('request.jwt.claims', <claims>, true)``; change hints come from ``LISTEN
realtime_messages`` (what the platform bootstrap notifies), filtered to the user's topic.
For tests and tools; apps use :class:`~directorstudio_client.transport.supabase.SupabaseTransport`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode, code_for
from directorstudio_client.transport.protocol import HintCallback


def translate_pg_error(error: psycopg.Error) -> DirectorStudioError:
    """A driver error as the typed error PostgREST's answer would have produced."""
    if isinstance(error, psycopg.OperationalError) and error.sqlstate is None:
        return DirectorStudioError(str(error).strip(), code=ErrorCode.UNAVAILABLE)
    diag = error.diag
    detail: Any = diag.message_detail
    if detail:
        with contextlib.suppress(ValueError):
            detail = json.loads(detail)
    return DirectorStudioError(
        diag.message_primary or str(error).strip(),
        code=code_for(error.sqlstate, diag.message_hint),
        detail=detail or None,
    )


def user_claims(user_id: str, email: str | None = None) -> dict[str, Any]:
    """Supabase access-token claims for a signed-in user (what PostgREST puts in the setting)."""
    return {"sub": user_id, "role": "authenticated", "aud": "authenticated", "email": email}


@dataclass(frozen=True)
class _Shape:
    returns_set: bool
    returns_void: bool
    params: dict[str, str]


class _ListenSubscription:
    def __init__(self, conninfo: str, topic: str, on_hint: HintCallback) -> None:
        self._topic = topic
        self._on_hint = on_hint
        self._stop = threading.Event()
        self._active = threading.Event()
        self._conn = psycopg.connect(conninfo, autocommit=True)
        self._conn.execute("LISTEN realtime_messages")
        self._active.set()
        self._thread = threading.Thread(target=self._run, name=f"hints {topic}", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        return self._active.is_set() and not self._stop.is_set()

    def _run(self) -> None:
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
        self._shapes: dict[str, _Shape] = {}

    @classmethod
    def for_user(cls, conninfo: str, user_id: str, email: str | None = None) -> PostgresTransport:
        """A transport acting as the given signed-in user."""
        return cls(conninfo, user_claims(user_id, email))

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._conninfo)
        return self._conn

    def _shape(self, conn: psycopg.Connection[Any], name: str) -> _Shape:
        if name not in self._shapes:
            found = conn.execute(
                "SELECT p.proretset, p.prorettype = 'void'::regtype,"
                " coalesce((SELECT jsonb_object_agg(a.name, format_type(a.type, NULL))"
                "  FROM unnest(p.proargnames[1:p.pronargs], p.proargtypes::oid[]) AS a(name, type)"
                " ), '{}'::jsonb)"
                " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = 'public' AND p.proname = %s LIMIT 1",
                (name,),
            ).fetchone()
            if found is None:
                raise DirectorStudioError(
                    f"Could not find the function public.{name}", code=ErrorCode.NOT_FOUND
                )
            self._shapes[name] = _Shape(bool(found[0]), bool(found[1]), dict(found[2]))
        return self._shapes[name]

    def rpc(self, name: str, args: Mapping[str, Any]) -> Any:
        """Call ``public.<name>`` with named arguments, as the user, in one transaction."""
        with self._lock:
            try:
                conn = self._connection()
                with conn.transaction():
                    conn.execute(
                        "SELECT set_config('role', 'authenticated', true),"
                        " set_config('request.jwt.claims', %s, true)",
                        (json.dumps(self._claims),),
                    )
                    shape = self._shape(conn, name)
                    unknown = [k for k in args if k not in shape.params]
                    if unknown:
                        raise DirectorStudioError(
                            f"public.{name} has no parameter {unknown[0]}", code=ErrorCode.NOT_FOUND
                        )
                    call = sql.SQL("public.{}({})").format(
                        sql.Identifier(name),
                        sql.SQL(", ").join(
                            sql.SQL("{} => {}::{}").format(
                                sql.Identifier(k), sql.Placeholder(k), sql.SQL(shape.params[k])
                            )
                            for k in args
                        ),
                    )
                    params = {k: _param(shape.params[k], v) for k, v in args.items()}
                    if shape.returns_set:
                        query = sql.SQL(
                            "SELECT coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb) FROM {} AS r"
                        ).format(call)
                    elif shape.returns_void:
                        query = sql.SQL("SELECT {}, NULL::jsonb").format(call)
                    else:
                        query = sql.SQL("SELECT to_jsonb({})").format(call)
                    row = conn.execute(query, params).fetchone()
            except psycopg.Error as error:
                if self._conn is not None and self._conn.broken:
                    self._conn = None
                raise translate_pg_error(error) from error
        return None if row is None else row[-1]

    def subscribe_hints(self, user_id: str, on_hint: HintCallback) -> _ListenSubscription:
        """Receive change hints for ``user:<user_id>`` through LISTEN."""
        try:
            return _ListenSubscription(self._conninfo, f"user:{user_id}", on_hint)
        except psycopg.Error as error:
            raise translate_pg_error(error) from error

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _param(type_name: str, value: Any) -> Any:
    if value is None:
        return None
    if type_name in ("json", "jsonb"):
        return Jsonb(value)
    if type_name.endswith("[]"):
        return [str(v) for v in value]
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool | int | float):
        return value
    return str(value)
