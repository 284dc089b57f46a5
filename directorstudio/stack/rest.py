"""``/rest/v1/rpc/<function>``: PostgREST's function calls, context and error mapping.

Each call runs in one transaction that first sets what PostgREST sets (search path, role,
``request.jwt.claims``, method, path and headers, all transaction-local), then calls the function
in schema ``public`` whose argument names match the request, and answers with PostgREST's
response shapes and SQLSTATE → HTTP mapping. Bodies and query arguments first pass the input
limits of directorstudio.server.limits (``bad_input``). Set-returning functions take
PostgREST's read modifiers (``select``, filters, ``order``, ``limit``/``offset``, ``Range``,
``Prefer: count=exact``, single-object ``Accept``), planned by directorstudio.stack.pgrst_query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from aiohttp import web
from psycopg import sql

from directorstudio.contracts.errors import (
    ERROR_SPECS,
    DirectorStudioError,
    ErrorCode,
    rest_status,
)
from directorstudio.server import limits
from directorstudio.stack import pgrst_query, tokens
from directorstudio.stack.common import (
    API_ROLES,
    CONFIG_KEY,
    POOL_KEY,
    GatewayConfig,
    api_key_error,
    bearer_token,
    json_response,
    read_json,
)
from directorstudio.stack.db import AsyncConn

EXPOSED_SCHEMA = "public"
SEARCH_PATH = '"public", "extensions"'
OBJECT_MEDIA_TYPE = "application/vnd.pgrst.object+json"
INPUT_MODES = frozenset({"i", "b", "v"})

FUNCTIONS_QUERY = """
SELECT
    p.proretset,
    t.typname = 'void' AND t.typnamespace = 'pg_catalog'::regnamespace AS returns_void,
    coalesce(p.proargnames, ARRAY[]::text[]) AS arg_names,
    coalesce(p.proargmodes::text[], ARRAY[]::text[]) AS arg_modes,
    ARRAY(
        SELECT format_type(u.type_oid, NULL)
        FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]))
            WITH ORDINALITY AS u (type_oid, position)
        ORDER BY u.position
    ) AS arg_types,
    p.pronargdefaults,
    t.typtype = 'c' OR t.oid = 'pg_catalog.record'::regtype AS returns_rows
FROM pg_proc AS p
JOIN pg_type AS t ON t.oid = p.prorettype
WHERE p.pronamespace = %s::regnamespace AND p.proname = %s AND p.prokind = 'f'
"""


@dataclass(frozen=True)
class Routine:
    """One candidate function: its input arguments and how it returns."""

    name: str
    arguments: list[tuple[str, str]]
    required: frozenset[str]
    returns_set: bool
    returns_void: bool
    returns_rows: bool = False


@dataclass(frozen=True)
class Caller:
    """Who is calling: the database role and the JWT claims PostgREST would set."""

    role: str
    claims: dict[str, Any]


class RestError(Exception):
    """An error PostgREST itself reports (before or instead of calling the function)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "details": details, "hint": hint, "message": message}
        self.headers = headers or {}

    def response(self) -> web.Response:
        return json_response(self.body, status=self.status, headers=self.headers)


def caller_of(request: web.Request, config: GatewayConfig) -> Caller:
    """The caller from the Bearer token (anon without one), as PostgREST authenticates."""
    token = bearer_token(request)
    if token is None:
        return Caller("anon", {"role": "anon"})
    try:
        claims = tokens.decode(token, config.keys, now=config.clock())
    except tokens.TokenError as error:
        code = "PGRST303" if error.expired else "PGRST301"
        raise RestError(
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
        raise RestError(401, "PGRST301", f'role "{role}" is not an API role')
    return Caller(str(role), claims)


def sqlstate_status(sqlstate: str, role: str, message: str = "") -> int:
    """PostgREST's HTTP status for a database error (from the error table)."""
    return rest_status(sqlstate, authenticated=role != "anon", message=message)


def _routine_from_row(name: str, row: tuple[Any, ...]) -> Routine:
    returns_set, returns_void, names, modes, types, n_defaults, returns_rows = row
    modes = modes or ["i"] * len(types)
    arguments = [
        (arg_name, arg_type)
        for arg_name, arg_type, mode in zip(names or [""] * len(types), types, modes, strict=False)
        if mode in INPUT_MODES
    ]
    required_count = len(arguments) - int(n_defaults)
    return Routine(
        name=name,
        arguments=arguments,
        required=frozenset(arg for arg, _ in arguments[:required_count]),
        returns_set=bool(returns_set),
        returns_void=bool(returns_void),
        returns_rows=bool(returns_rows),
    )


async def load_routines(conn: AsyncConn, name: str) -> list[Routine]:
    """Every function of schema public named ``name``."""
    cursor = await conn.execute(FUNCTIONS_QUERY, (EXPOSED_SCHEMA, name))
    return [_routine_from_row(name, row) for row in await cursor.fetchall()]


async def find_routine(conn: AsyncConn, name: str, given: set[str]) -> Routine:
    """The function of schema public named ``name`` whose argument names fit ``given``."""
    return choose_routine(name, await load_routines(conn, name), given)


def choose_routine(name: str, candidates: list[Routine], given: set[str]) -> Routine:
    """The candidate whose argument names fit ``given`` (PGRST202 when none does)."""
    fitting = [
        routine
        for routine in candidates
        if routine.required <= given <= {arg for arg, _ in routine.arguments}
        and all(arg for arg, _ in routine.arguments)
    ]
    if fitting:
        return min(fitting, key=lambda routine: len(routine.arguments))
    listed = ", ".join(sorted(given))
    signature = f"{EXPOSED_SCHEMA}.{name}({listed})" if given else f"{EXPOSED_SCHEMA}.{name}"
    suffix = "" if given else " without parameters"
    raise RestError(
        404,
        "PGRST202",
        f"Could not find the function {signature}{suffix} in the schema cache",
        details=(
            f"Searched for the function {EXPOSED_SCHEMA}.{name} with parameters {listed} or "
            "with a single unnamed json/jsonb parameter, but no matches were found in the "
            "schema cache."
            if given
            else f"Searched for the function {EXPOSED_SCHEMA}.{name} without parameters, but "
            "no matches were found in the schema cache."
        ),
    )


def call_statement(
    routine: Routine,
    given: set[str],
    plan: pgrst_query.ReadPlan | None = None,
    *,
    exact_count: bool = False,
) -> tuple[sql.Composed, dict[str, str | int]]:
    """``SELECT`` of the function with named arguments read from a JSON record (PostgREST's way),
    with its parameters; a set is read through ``plan`` (all rows when None)."""
    used = [(arg, arg_type) for arg, arg_type in routine.arguments if arg in given]
    call = sql.SQL("{}.{}({})").format(
        sql.Identifier(EXPOSED_SCHEMA),
        sql.Identifier(routine.name),
        sql.SQL(", ").join(
            sql.SQL("{} := _args.{}").format(sql.Identifier(arg), sql.Identifier(arg))
            for arg, _ in used
        ),
    )
    record = sql.SQL("json_to_record(%(args)s::json) AS _args({})").format(
        sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(arg), sql.SQL(arg_type))
            for arg, arg_type in used
        )
    )
    source = sql.SQL(" FROM {}").format(record) if used else sql.SQL("")
    if routine.returns_set:
        from_list = sql.SQL("{}{} AS _result").format(
            sql.SQL("{}, LATERAL ").format(record) if used else sql.SQL(""), call
        )
        return pgrst_query.render_read(
            plan or pgrst_query.ReadPlan(),
            from_list,
            exact_count=exact_count,
            rows_are_records=routine.returns_rows,
        )
    if routine.returns_void:
        return sql.SQL("SELECT {}{}").format(call, source), {}
    return sql.SQL("SELECT to_json({})::text{}").format(call, source), {}


def request_args(request: web.Request, body: Any) -> dict[str, Any]:
    """Named arguments: the JSON body of a POST, the query string of a GET (the candidates:
    :func:`split_get_query` keeps those naming a parameter of the function)."""
    if request.method == "GET":
        return {
            key: value
            for key, value in request.query.items()
            if key not in pgrst_query.RESERVED_KEYS
        }
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise RestError(400, "PGRST102", "Empty or invalid json", hint=str(ErrorCode.INVALID_INPUT))
    return body


def bad_input(error: DirectorStudioError) -> RestError:
    """A body or query that breaks the input limits, as PostgREST reports a bad body
    (``PGRST102``) with our documented code in the hint, like a contract function's error."""
    code = "PGRST102" if error.code == ErrorCode.INVALID_INPUT else ERROR_SPECS[error.code].sqlstate
    details = None if error.detail is None else json.dumps(error.detail)
    return RestError(error.http_status, code, error.message, details=details, hint=str(error.code))


async def _checked_args(request: web.Request) -> dict[str, Any]:
    try:
        body = await read_json(request) if request.method == "POST" else None
        args = request_args(request, body)
        limits.check_value(args)
        limits.check_value([[key, value] for key, value in request.query.items()])
    except DirectorStudioError as error:
        raise bad_input(error) from None
    return args


async def _apply_context(conn: AsyncConn, request: web.Request, caller: Caller) -> None:
    headers = {key.lower(): value for key, value in request.headers.items()}
    await conn.execute(
        "SELECT set_config('search_path', %s, true), set_config('role', %s, true),"
        " set_config('request.jwt.claims', %s, true), set_config('request.method', %s, true),"
        " set_config('request.path', %s, true), set_config('request.headers', %s, true)",
        (
            SEARCH_PATH,
            caller.role,
            json.dumps(caller.claims),
            request.method,
            request.path,
            json.dumps(headers),
        ),
    )


def _error_response(error: psycopg.Error, caller: Caller) -> web.Response:
    diag = error.diag
    sqlstate = error.sqlstate or "XX000"
    message = diag.message_primary or str(error).strip()
    body = {
        "code": sqlstate,
        "details": diag.message_detail,
        "hint": diag.message_hint,
        "message": message,
    }
    return json_response(body, status=sqlstate_status(sqlstate, caller.role, message))


async def rpc(request: web.Request) -> web.StreamResponse:
    """``POST``/``GET /rest/v1/rpc/{name}``."""
    config = request.app[CONFIG_KEY]
    if (refusal := api_key_error(request, config)) is not None:
        return refusal
    try:
        for header in ("Content-Profile", "Accept-Profile"):
            profile = request.headers.get(header)
            if profile is not None and profile != EXPOSED_SCHEMA:
                raise RestError(
                    406,
                    "PGRST106",
                    f"The schema must be one of the following: {EXPOSED_SCHEMA}",
                )
        caller = caller_of(request, config)
        args = await _checked_args(request)
        async with request.app[POOL_KEY].connection() as conn:
            name = request.match_info["name"]
            routine, args, modifiers = split_get_query(
                request, name, await load_routines(conn, name), args
            )
            plan = _read_plan(request, modifiers) if routine.returns_set else None
            statement, params = call_statement(
                routine, set(args), plan, exact_count=_wants_exact_count(request)
            )
            try:
                async with conn.transaction():
                    if request.method == "GET":
                        await conn.execute("SET TRANSACTION READ ONLY")
                    await _apply_context(conn, request, caller)
                    cursor = await conn.execute(statement, {"args": json.dumps(args), **params})
                    row = await cursor.fetchone()
            except psycopg.Error as error:
                if conn.broken:
                    raise  # the pool answers a lost connection: the database is unavailable
                return _error_response(error, caller)
    except RestError as error:
        return error.response()
    return _result_response(request, routine, row, plan)


def split_get_query(
    request: web.Request, name: str, candidates: list[Routine], args: dict[str, Any]
) -> tuple[Routine, dict[str, Any], list[tuple[str, str]]]:
    """The routine, its arguments and the read modifiers: for GET, query parameters naming a
    parameter of the function are arguments and the others filters, as PostgREST decides."""
    query = list(request.query.items())
    if request.method != "GET":
        return choose_routine(name, candidates, set(args)), args, query
    names = {arg for routine in candidates for arg, _ in routine.arguments}
    used = {key: value for key, value in args.items() if key in names}
    routine = choose_routine(name, candidates, set(used))
    if not routine.returns_set:  # nothing to filter: every parameter must be an argument
        return choose_routine(name, candidates, set(args)), args, []
    return routine, used, [(key, value) for key, value in query if key not in used]


def _read_plan(request: web.Request, modifiers: list[tuple[str, str]]) -> pgrst_query.ReadPlan:
    try:
        return pgrst_query.parse_plan(modifiers, request.headers.get("Range"))
    except pgrst_query.QueryGrammarError as error:
        raise RestError(400, "PGRST100", error.message, details=error.details) from None


def _wants_exact_count(request: web.Request) -> bool:
    return "count=exact" in request.headers.get("Prefer", "")


def _wants_object(request: web.Request) -> bool:
    return request.headers.get("Accept", "").startswith(OBJECT_MEDIA_TYPE)


def _set_response(request: web.Request, row: tuple[Any, ...], offset: int) -> web.Response:
    text, rows, total = str(row[0]), int(row[1]), row[2]
    shown = "*" if total is None else str(total)
    headers = {"Content-Range": f"{offset}-{offset + rows - 1}/{shown}" if rows else f"*/{shown}"}
    if _wants_object(request):
        if rows != 1:
            raise RestError(
                406,
                "PGRST116",
                "Cannot coerce the result to a single JSON object",
                details=f"The result contains {rows} rows",
            )
        return web.Response(
            text=json.dumps(json.loads(text)[0]),
            content_type=OBJECT_MEDIA_TYPE,
            charset="utf-8",
            headers=headers,
        )
    partial = total is not None and rows > 0 and (offset > 0 or offset + rows < int(total))
    return web.Response(
        text=text,
        status=206 if partial else 200,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def _result_response(
    request: web.Request,
    routine: Routine,
    row: tuple[Any, ...] | None,
    plan: pgrst_query.ReadPlan | None,
) -> web.Response:
    if routine.returns_void:
        return web.Response(status=204)
    if routine.returns_set and row is not None:
        try:
            return _set_response(request, row, plan.offset if plan else 0)
        except RestError as error:
            return error.response()
    text = row[0] if row is not None and row[0] is not None else "null"
    return web.Response(text=text, status=200, content_type="application/json", charset="utf-8")


def add_routes(app: web.Application) -> None:
    """Register the rpc endpoint on ``app``."""
    app.router.add_route("POST", "/rest/v1/rpc/{name}", rpc)
    app.router.add_route("GET", "/rest/v1/rpc/{name}", rpc)
