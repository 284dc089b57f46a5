"""``/rest/v1/<table or view>``: PostgREST's table endpoints on schema ``public``, under RLS as
the caller.

``GET``/``HEAD`` read with PostgREST's grammar (``select``, filters, ``order``,
``limit``/``offset``, ``Range``, ``Prefer: count=exact``, single-object ``Accept``); ``POST``
inserts one object or an array (an upsert with ``Prefer: resolution=merge-duplicates`` or
``ignore-duplicates``, on the primary key or ``on_conflict=``); ``PATCH`` and ``DELETE`` change
the rows their filters match (a write without a filter is refused, as hosted Supabase's
pg-safeupdate does). ``Prefer: return=representation`` answers the written rows (201 for POST,
200 otherwise), else nothing (201 for POST, 204 otherwise). Only relations an API role holds a
privilege on are served (else 404 ``PGRST205``); what grants and RLS refuse is PostgreSQL's
42501 (401 for anon, 403 otherwise); rows RLS hides are neither seen nor changed.
"""

from __future__ import annotations

from typing import Any

import psycopg
from aiohttp import web
from psycopg import sql

from directorstudio.contracts.postgrest import catalog, grammar, statements
from directorstudio.contracts.postgrest.errors import PostgrestError
from directorstudio.stack.common import CONFIG_KEY, POOL_KEY, api_key_error
from directorstudio.stack.rest import (
    Caller,
    caller_of,
    check_profiles,
    checked_body,
    database_error,
    error_response,
    page_response,
    read_plan,
    run,
    wants_object,
)

TABLE_PATH = "/rest/v1/{table}"
WRITE_STATUS = {"POST": 201, "PATCH": 200, "DELETE": 200}
MINIMAL_STATUS = {"POST": 201, "PATCH": 204, "DELETE": 204}
PRIVILEGES = {"POST": "INSERT", "PATCH": "UPDATE", "DELETE": "DELETE"}
# What a write that changes nothing answers: an empty page, or no row affected.
NOTHING_WRITTEN = {
    True: statements.Statement(sql.SQL("SELECT '[]'::text, 0, NULL::bigint").format(), {}),
    False: statements.Statement(sql.SQL("SELECT 0").format(), {}, answers_page=False),
}


def _write_plan(request: web.Request) -> grammar.WritePlan:
    try:
        return grammar.parse_write(list(request.query.items()))
    except grammar.QueryGrammarError as error:
        raise PostgrestError(400, "PGRST100", error.message, details=error.details) from None


def _write_statement(
    request: web.Request, relation: catalog.Relation, body: Any, prefer: grammar.Preferences
) -> statements.Statement | None:
    plan = _write_plan(request)
    if request.method == "POST":
        if body is None:
            raise PostgrestError(400, "PGRST102", "Empty or invalid json")
        return statements.insert_statement(relation, body, plan, prefer)
    if request.method == "PATCH":
        return statements.update_statement(relation, body, plan, prefer)
    return statements.delete_statement(relation, plan, prefer)


def _written(
    request: web.Request, row: tuple[Any, ...], prefer: grammar.Preferences
) -> web.Response:
    if prefer.representation:
        return page_response(request, row, 0, status=WRITE_STATUS[request.method])
    affected = int(row[0])
    headers = {"Content-Range": f"*/{affected}"} if prefer.exact_count else {}
    return web.Response(status=MINIMAL_STATUS[request.method], headers=headers)


async def _table(request: web.Request, caller: Caller) -> web.StreamResponse:
    prefer = grammar.parse_prefer(request.headers.get("Prefer"))
    body, _ = await checked_body(request)
    reading = request.method in ("GET", "HEAD")
    async with request.app[POOL_KEY].connection() as conn:
        relation = await catalog.load_relation_async(conn, request.match_info["table"])
        plan: grammar.ReadPlan | None = None
        statement: statements.Statement | None
        if reading:
            plan = read_plan(list(request.query.items()), request)
            statement = statements.read_statement(relation, plan, exact_count=prefer.exact_count)
        else:
            statement = _write_statement(request, relation, body, prefer)
        if statement is None:  # a PATCH naming no column: only the privilege is checked
            statement = NOTHING_WRITTEN[prefer.representation]
        expect_one = wants_object(request) and statement.answers_page and not reading
        privilege = None if reading else (relation.name, PRIVILEGES[request.method])
        try:
            row = await run(
                conn, request, caller, statement, expect_one=expect_one, privilege=privilege
            )
        except psycopg.Error as error:
            return database_error(error, conn, caller)
    if plan is not None:
        return page_response(request, row, plan.offset)
    return _written(request, row, prefer)


async def table(request: web.Request) -> web.StreamResponse:
    """``GET``/``HEAD``/``POST``/``PATCH``/``DELETE /rest/v1/{table}``."""
    config = request.app[CONFIG_KEY]
    if (refusal := api_key_error(request, config)) is not None:
        return refusal
    try:
        check_profiles(request)
        return await _table(request, caller_of(request, config))
    except PostgrestError as error:
        return error_response(error)


def add_routes(app: web.Application) -> None:
    """Register the table endpoints on ``app`` (HEAD is GET's twin)."""
    app.router.add_get(TABLE_PATH, table)
    for method in ("POST", "PATCH", "DELETE"):
        app.router.add_route(method, TABLE_PATH, table)
