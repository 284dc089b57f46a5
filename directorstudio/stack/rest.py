"""``/rest/v1``: PostgREST over schema ``public``: the rpc endpoint here, the table endpoints
in :mod:`directorstudio.stack.tables`, and what both share (the caller, the request context,
the answers and the errors).

Each request runs in one transaction that first sets what PostgREST sets (search path, role,
``request.jwt.claims``, method, path and headers, all transaction-local:
:mod:`directorstudio.contracts.postgrest.context`), then runs the SQL of
:mod:`directorstudio.contracts.postgrest.statements` and answers with PostgREST's response
shapes and SQLSTATE → HTTP mapping (:mod:`directorstudio.contracts.postgrest.errors`). Bodies
and query arguments first pass the input limits of directorstudio.server.limits
(``bad_input``). Set-returning functions take PostgREST's read modifiers (``select``, filters,
``order``, ``limit``/``offset``, ``Range``, ``Prefer: count=exact``, single-object ``Accept``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from aiohttp import web
from psycopg import sql

from directorstudio.contracts.errors import ERROR_SPECS, DirectorStudioError, ErrorCode
from directorstudio.contracts.postgrest import catalog, errors, grammar, statements
from directorstudio.contracts.postgrest.catalog import Routine
from directorstudio.contracts.postgrest.context import (
    CONTEXT_SQL,
    EXPOSED_SCHEMA,
    RequestContext,
    apply_async,
    context_params,
)
from directorstudio.contracts.postgrest.errors import PostgrestError
from directorstudio.server import limits
from directorstudio.stack import tokens
from directorstudio.stack.common import (
    API_ROLES,
    CONFIG_KEY,
    POOL_KEY,
    SCHEMA_KEY,
    GatewayConfig,
    api_key_error,
    bearer_token,
    json_response,
    read_json_text,
)
from directorstudio.stack.db import AsyncConn

OBJECT_MEDIA_TYPE = "application/vnd.pgrst.object+json"
SERVED_MEDIA_TYPES = frozenset({"application/json", OBJECT_MEDIA_TYPE, "application/*", "*/*"})
UNDEFINED_FUNCTION = "42883"
READ_ONLY = "SET TRANSACTION READ ONLY"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the database role and the JWT claims PostgREST would set."""

    role: str
    claims: dict[str, Any]


def error_response(error: PostgrestError) -> web.Response:
    """PostgREST's JSON answer for an error it reports itself."""
    return json_response(error.body, status=error.status, headers=error.headers)


def caller_of(request: web.Request, config: GatewayConfig) -> Caller:
    """The caller from the Bearer token (anon without one), as PostgREST authenticates."""
    token = bearer_token(request)
    if token is None:
        return Caller("anon", {"role": "anon"})
    try:
        claims = config.verified_tokens.decode(token, config.keys, now=config.clock())
    except tokens.TokenError as error:
        code = "PGRST303" if error.expired else "PGRST301"
        raise PostgrestError(
            401,
            code,
            error.message,
            headers={
                "WWW-Authenticate": f'Bearer error="invalid_token", '
                f'error_description="{error.message}"'
            },
        ) from error
    role = claims.get("role") or "anon"
    if role not in API_ROLES:
        raise PostgrestError(401, "PGRST301", f'role "{role}" is not an API role')
    return Caller(str(role), claims)


def _media_types(header: str) -> list[str]:
    return [item.split(";")[0].strip().lower() for item in header.split(",") if item.strip()]


def check_profiles(request: web.Request) -> None:
    """Only schema ``public`` is exposed (another ``Accept-``/``Content-Profile`` is 406
    ``PGRST106``), and answers are JSON (an ``Accept`` naming no JSON type is 406
    ``PGRST107``)."""
    accepted = _media_types(request.headers.get("Accept", ""))
    if accepted and not any(media in SERVED_MEDIA_TYPES for media in accepted):
        raise PostgrestError(
            406, "PGRST107", f"None of these media types are available: {', '.join(accepted)}"
        )
    for header in ("Content-Profile", "Accept-Profile"):
        profile = request.headers.get(header)
        if profile is not None and profile != EXPOSED_SCHEMA:
            raise PostgrestError(
                406, "PGRST106", f"The schema must be one of the following: {EXPOSED_SCHEMA}"
            )


def bad_input(error: DirectorStudioError) -> PostgrestError:
    """A body or query that breaks the input limits, as PostgREST reports a bad body
    (``PGRST102``) with our documented code in the hint, like a contract function's error."""
    code = "PGRST102" if error.code == ErrorCode.INVALID_INPUT else ERROR_SPECS[error.code].sqlstate
    details = None if error.detail is None else json.dumps(error.detail)
    return PostgrestError(
        error.http_status, code, error.message, details=details, hint=str(error.code)
    )


async def checked_body(request: web.Request) -> tuple[Any, str | None]:
    """The JSON body (None when empty) and the query, within the input limits; with the body's
    text when it is plain UTF-8 JSON (the body's limits are checked where it is read)."""
    try:
        body, text = (
            await read_json_text(request) if request.method in ("POST", "PATCH") else (None, None)
        )
        limits.check_value([[key, value] for key, value in request.query.items()])
    except DirectorStudioError as error:
        raise bad_input(error) from None
    return body, text


async def run(
    conn: AsyncConn,
    request: web.Request,
    caller: Caller,
    statement: statements.Statement,
    *,
    expect_one: bool = False,
    privilege: tuple[str, str] | None = None,
) -> tuple[Any, ...]:
    """Run ``statement`` in one transaction with PostgREST's context (read-only for GET and
    HEAD): a page's row, or ``(rows affected,)``. With ``expect_one`` a page of other than one
    row is PGRST116 and the transaction is rolled back. ``privilege`` (a relation and a
    privilege) is checked first, so a caller without it is refused (42501) before its input is
    looked at, and a write with nothing to change still needs it. Without either, the whole
    transaction is one round trip (:func:`run_at_once`)."""
    read_only = request.method in ("GET", "HEAD")
    context = RequestContext(
        caller.role,
        caller.claims,
        method=request.method,
        path=request.path,
        headers=dict(request.headers),
    )
    if not expect_one and privilege is None:
        return await run_at_once(conn, context, statement, read_only=read_only)
    async with conn.transaction():
        if read_only:
            await conn.execute(READ_ONLY)
        await apply_async(conn, context)
        if privilege is not None:
            await check_privilege(conn, caller, *privilege)
        cursor = await conn.execute(statement.query, statement.params)
        if not statement.answers_page:
            return await _outcome(cursor)
        row = await cursor.fetchone()
        assert row is not None  # an aggregate always answers one row
        if expect_one and int(row[1]) != 1:
            raise not_one_row(int(row[1]))
    return tuple(row)


async def _outcome(cursor: psycopg.AsyncCursor[Any]) -> tuple[Any, ...]:
    """The statement's first row, or ``(rows affected,)`` when it answers none."""
    found = await cursor.fetchone() if cursor.description else None
    return tuple(found) if found is not None else (cursor.rowcount,)


async def run_at_once(
    conn: AsyncConn,
    context: RequestContext,
    statement: statements.Statement,
    *,
    read_only: bool,
) -> tuple[Any, ...]:
    """Run ``statement`` after ``context`` in one round trip: both go as one multi-statement
    query (values bound client-side), which PostgreSQL runs as one implicit transaction,
    committed at its end and rolled back on an error."""
    parts: list[sql.Composable] = [sql.SQL(READ_ONLY)] if read_only else []
    query = sql.SQL("; ").join([*parts, sql.SQL(CONTEXT_SQL), statement.query])
    cursor = psycopg.AsyncClientCursor(conn)
    await cursor.execute(query, {**context_params(context), **statement.params})
    while cursor.nextset():
        pass
    return await _outcome(cursor)


async def check_privilege(conn: AsyncConn, caller: Caller, relation: str, privilege: str) -> None:
    """PostgreSQL's own refusal (42501) unless the current role holds ``privilege`` on the
    exposed ``relation``."""
    cursor = await conn.execute(
        "SELECT has_table_privilege(format('%%I.%%I', %s::text, %s::text), %s)",
        (EXPOSED_SCHEMA, relation, privilege),
    )
    row = await cursor.fetchone()
    if row is None or not row[0]:
        raise PostgrestError(
            errors.sqlstate_status("42501", caller.role),
            "42501",
            f"permission denied for table {relation}",
        )


def not_one_row(rows: int) -> PostgrestError:
    """``Accept: application/vnd.pgrst.object+json`` with other than one row."""
    return PostgrestError(
        406,
        "PGRST116",
        "Cannot coerce the result to a single JSON object",
        details=f"The result contains {rows} rows",
    )


def database_error(error: psycopg.Error, conn: AsyncConn, caller: Caller) -> web.Response:
    """A database error as PostgREST answers it; a lost connection is re-raised for the pool
    to answer (the database is unavailable)."""
    if conn.broken:
        raise error
    return json_response(errors.error_body(error), status=errors.error_status(error, caller.role))


def wants_object(request: web.Request) -> bool:
    """Whether the client asked for one object instead of an array."""
    return request.headers.get("Accept", "").startswith(OBJECT_MEDIA_TYPE)


def content_range(offset: int, rows: int, total: Any) -> str:
    """``Content-Range`` as PostgREST writes it (``0-9/42``, ``*/0``, ``0-9/*``)."""
    shown = "*" if total is None else str(total)
    return f"{offset}-{offset + rows - 1}/{shown}" if rows else f"*/{shown}"


def page_response(
    request: web.Request, row: tuple[Any, ...], offset: int, *, status: int = 200
) -> web.Response:
    """A page as PostgREST answers it: an array (206 when a counted page is partial) or, asked
    for, one object; with ``Content-Range``."""
    text, rows, total = str(row[0]), int(row[1]), row[2]
    headers = {"Content-Range": content_range(offset, rows, total)}
    if wants_object(request):
        if rows != 1:
            raise not_one_row(rows)
        text, content_type = json.dumps(json.loads(text)[0]), OBJECT_MEDIA_TYPE
    else:
        content_type = "application/json"
        partial = total is not None and rows > 0 and (offset > 0 or offset + rows < int(total))
        status = 206 if partial and status == 200 else status
    if request.method == "HEAD":
        return web.Response(status=status, headers={**headers, "Content-Type": content_type})
    return web.Response(
        text=text, status=status, content_type=content_type, charset="utf-8", headers=headers
    )


def read_plan(modifiers: list[tuple[str, str]], request: web.Request) -> grammar.ReadPlan:
    """The read plan of the modifiers and the ``Range`` header (PGRST100 when malformed)."""
    try:
        return grammar.parse_plan(modifiers, request.headers.get("Range"))
    except grammar.QueryGrammarError as error:
        raise PostgrestError(400, "PGRST100", error.message, details=error.details) from None


def request_args(request: web.Request, body: Any) -> dict[str, Any]:
    """Named arguments: the JSON body of a POST, the query string of a GET (the candidates:
    :func:`split_get_query` keeps those naming a parameter of the function)."""
    if request.method == "GET":
        return {
            key: value for key, value in request.query.items() if key not in grammar.RESERVED_KEYS
        }
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise PostgrestError(
            400, "PGRST102", "Empty or invalid json", hint=str(ErrorCode.INVALID_INPUT)
        )
    return body


def split_get_query(
    request: web.Request, name: str, candidates: list[Routine], args: dict[str, Any]
) -> tuple[Routine, dict[str, Any], list[tuple[str, str]]]:
    """The routine, its arguments and the read modifiers: for GET, query parameters naming a
    parameter of the function are arguments and the others filters, as PostgREST decides."""
    query = list(request.query.items())
    if request.method != "GET":
        return catalog.choose_routine(name, candidates, set(args)), args, query
    names = {arg for routine in candidates for arg, _ in routine.arguments}
    used = {key: value for key, value in args.items() if key in names}
    routine = catalog.choose_routine(name, candidates, set(used))
    if not routine.returns_set:  # nothing to filter: every parameter must be an argument
        return catalog.choose_routine(name, candidates, set(args)), args, []
    return routine, used, [(key, value) for key, value in query if key not in used]


@dataclass(frozen=True)
class CallPlan:
    """An rpc call ready to run: the candidates it was chosen from, and its statement."""

    candidates: list[Routine]
    routine: Routine
    plan: grammar.ReadPlan | None
    statement: statements.Statement


async def plan_call(
    conn: AsyncConn,
    schema: catalog.SchemaCache,
    request: web.Request,
    args: dict[str, Any],
    exact_count: bool,
    *,
    fresh: bool = False,
    args_text: str | None = None,
) -> CallPlan:
    """The call of the function the request names, from the schema cache (read again from the
    catalog before answering that no candidate fits, so a function created since is found).
    ``args_text``: the body the arguments were read from, passed on as PostgREST passes it
    when every argument comes from it."""
    name = request.match_info["name"]
    kept = name in schema and not fresh
    candidates = await schema.routines_async(conn, name, fresh=fresh)
    try:
        routine, used, modifiers = split_get_query(request, name, candidates, args)
    except PostgrestError:
        if not kept:
            raise
        return await plan_call(
            conn, schema, request, args, exact_count, fresh=True, args_text=args_text
        )
    plan = read_plan(modifiers, request) if routine.returns_set else None
    text = args_text if used is args else None
    statement = statements.call_statement(
        routine, used, plan, exact_count=exact_count, args_text=text
    )
    return CallPlan(candidates, routine, plan, statement)


async def run_call(
    conn: AsyncConn, schema: catalog.SchemaCache, request: web.Request, caller: Caller,
    args: dict[str, Any], exact_count: bool, args_text: str | None = None,
) -> tuple[CallPlan, tuple[Any, ...]]:  # fmt: skip
    """Plan and run the call; when it names a function that no longer exists as the schema
    cache kept it (``42883``), plan it once more from the catalog and run that."""
    call = await plan_call(conn, schema, request, args, exact_count, args_text=args_text)
    try:
        return call, await run(conn, request, caller, call.statement)
    except psycopg.Error as error:
        if error.sqlstate != UNDEFINED_FUNCTION or conn.broken:
            raise
        current = await plan_call(
            conn, schema, request, args, exact_count, fresh=True, args_text=args_text
        )
        if current.candidates == call.candidates:
            raise
    return current, await run(conn, request, caller, current.statement)


async def rpc(request: web.Request) -> web.StreamResponse:
    """``POST``/``GET /rest/v1/rpc/{name}``."""
    config = request.app[CONFIG_KEY]
    if (refusal := api_key_error(request, config)) is not None:
        return refusal
    try:
        check_profiles(request)
        caller = caller_of(request, config)
        body, text = await checked_body(request)
        args = request_args(request, body)
        exact = grammar.parse_prefer(request.headers.get("Prefer")).exact_count
        schema = request.app[SCHEMA_KEY]
        async with request.app[POOL_KEY].connection() as conn:
            try:
                call, row = await run_call(conn, schema, request, caller, args, exact, text)
            except psycopg.Error as error:
                return database_error(error, conn, caller)
        if call.routine.returns_void:
            return web.Response(status=204)
        if call.routine.returns_set:
            return page_response(request, row, call.plan.offset if call.plan else 0)
        text = row[0] if row[0] is not None else "null"
        return web.Response(text=text, content_type="application/json", charset="utf-8")
    except PostgrestError as error:
        return error_response(error)


def add_routes(app: web.Application) -> None:
    """Register the rpc endpoint on ``app``."""
    app.router.add_route("POST", "/rest/v1/rpc/{name}", rpc)
    app.router.add_route("GET", "/rest/v1/rpc/{name}", rpc)
