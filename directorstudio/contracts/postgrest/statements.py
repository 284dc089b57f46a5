"""The SQL PostgREST runs: function calls, reads and writes, with identifiers quoted through
psycopg.sql and every value a bound parameter.

- :func:`call_statement`: an rpc call, arguments read from one JSON record typed by the
  catalog (PostgREST's way), a set read through a plan;
- :func:`bound_call`: a call of a known function with bound named arguments, for server code;
- :func:`read_statement`, :func:`insert_statement`, :func:`update_statement`,
  :func:`delete_statement`: the table endpoints.

A statement that answers a page selects ``(page_json, page_rows, total)``; total is NULL unless
an exact count was asked for.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from directorstudio.contracts.errors import ErrorCode
from directorstudio.contracts.postgrest.catalog import Relation, Routine
from directorstudio.contracts.postgrest.context import EXPOSED_SCHEMA
from directorstudio.contracts.postgrest.errors import PostgrestError
from directorstudio.contracts.postgrest.grammar import (
    COMPARISONS,
    IS_VALUES,
    PATTERNS,
    Column,
    Filter,
    Preferences,
    ReadPlan,
    WritePlan,
)

RESULT = sql.Identifier("_result")
Params = dict[str, Any]


@dataclass(frozen=True)
class Statement:
    """SQL and its parameters; ``answers_page`` when it selects a page (else: rows affected)."""

    query: sql.Composed | sql.SQL
    params: Params
    answers_page: bool = True


@dataclass
class _Params:
    values: Params = field(default_factory=dict)

    def bind(self, value: Any) -> sql.Placeholder:
        name = f"q{len(self.values)}"
        self.values[name] = value
        return sql.Placeholder(name)


def _condition(item: Filter, params: _Params, alias: sql.Identifier) -> sql.Composable:
    column = sql.SQL("{}.{}").format(alias, sql.Identifier(item.column))
    condition: sql.Composable
    if item.operator in COMPARISONS:
        condition = sql.SQL("{} {} {}").format(
            column, sql.SQL(COMPARISONS[item.operator]), params.bind(item.value)
        )
    elif item.operator in PATTERNS:
        pattern = item.value.replace("*", "%")
        condition = sql.SQL("{} {} {}").format(
            column, sql.SQL(PATTERNS[item.operator]), params.bind(pattern)
        )
    elif item.operator == "is":
        condition = sql.SQL("{} IS {}").format(column, sql.SQL(IS_VALUES[item.value.lower()]))
    elif item.values:
        condition = sql.SQL("{} IN ({})").format(
            column, sql.SQL(", ").join(params.bind(value) for value in item.values)
        )
    else:
        condition = sql.SQL("FALSE")
    return sql.SQL("NOT ({})").format(condition) if item.negated else condition


def _where(filters: Sequence[Filter], params: _Params, alias: sql.Identifier) -> sql.Composable:
    if not filters:
        return sql.SQL("")
    conditions = [_condition(item, params, alias) for item in filters]
    return sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(conditions))


def _order_by(plan: ReadPlan, alias: sql.Identifier) -> sql.Composable:
    if not plan.order:
        return sql.SQL("")
    terms = [
        sql.SQL("{}.{} {}{}").format(
            alias,
            sql.Identifier(term.column),
            sql.SQL("DESC" if term.descending else "ASC"),
            sql.SQL(f" NULLS {term.nulls}" if term.nulls else ""),
        )
        for term in plan.order
    ]
    return sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(terms))


def _projection(
    columns: tuple[Column, ...] | None, alias: sql.Identifier, rows_are_records: bool
) -> tuple[sql.Composable, sql.Composable]:
    """The select list over ``alias`` and what one JSON element of the page is."""
    if columns is None:
        whole = sql.SQL("{}.*" if rows_are_records else "{}._result").format(alias)
        element = sql.SQL("_page" if rows_are_records else "_page._result")
        return whole, element
    projection = sql.SQL(", ").join(
        sql.SQL("{}.{} AS {}").format(
            alias, sql.Identifier(column.name), sql.Identifier(column.alias)
        )
        for column in columns
    )
    return projection, sql.SQL("_page")


def render_read(
    plan: ReadPlan,
    source: sql.Composable,
    *,
    exact_count: bool,
    rows_are_records: bool = True,
    alias: sql.Identifier = RESULT,
    params: _Params | None = None,
) -> tuple[sql.Composed, Params]:
    """``SELECT page_json, page_rows, total`` over ``source`` (a FROM list ending in the rows
    aliased ``alias``); ``total`` is the filtered count when ``exact_count``, else NULL. The
    source runs once: its filtered rows are one CTE, materialized when counted.
    ``rows_are_records`` is False for a set of scalars (its one column is ``_result``)."""
    params = params or _Params()
    where = _where(plan.filters, params, alias)
    projection, element = _projection(plan.columns, alias, rows_are_records)
    page: sql.Composable = sql.SQL("")
    if plan.limit is not None:
        page = sql.SQL(" LIMIT {}").format(params.bind(plan.limit))
    if plan.offset:
        page = sql.SQL("{} OFFSET {}").format(page, params.bind(plan.offset))
    total = sql.SQL("(SELECT count(*) FROM _rows)" if exact_count else "NULL::bigint")
    statement = sql.SQL(
        "WITH _rows AS (SELECT {alias}.* FROM {source}{where})"
        " SELECT coalesce(json_agg({element}), '[]'::json)::text, count(*), {total}"
        " FROM (SELECT {projection} FROM _rows AS {alias}{order}{page}) AS _page"
    ).format(
        alias=alias,
        element=element,
        total=total,
        projection=projection,
        source=source,
        where=where,
        order=_order_by(plan, alias),
        page=page,
    )
    return statement, params.values


def _function(name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(EXPOSED_SCHEMA), sql.Identifier(name))


def call_statement(
    routine: Routine,
    args: Mapping[str, Any],
    plan: ReadPlan | None = None,
    *,
    exact_count: bool = False,
    args_text: str | None = None,
) -> Statement:
    """``SELECT`` of the function with named arguments read from a JSON record typed as the
    function's parameters (PostgREST's way): a scalar as JSON text (NULL for void), a set read
    through ``plan`` (all rows when None) as a page. ``args_text``, when given, is ``args`` as
    JSON text (a request body, passed on without being encoded again)."""
    used = tuple((arg, arg_type) for arg, arg_type in routine.arguments if arg in args)
    params: Params = {}
    if used:
        params["args"] = args_text if args_text is not None else json.dumps(dict(args), default=str)
    if not routine.returns_set:
        scalar = _scalar_call(routine.name, used, routine.returns_void)
        return Statement(scalar, params, answers_page=False)
    call, record = _call_and_record(routine.name, used)
    from_list = sql.SQL("{}{} AS _result").format(
        sql.SQL("{}, LATERAL ").format(record) if used else sql.SQL(""), call
    )
    query, read_params = render_read(
        plan or ReadPlan(),
        from_list,
        exact_count=exact_count,
        rows_are_records=routine.returns_rows,
    )
    return Statement(query, {**params, **read_params})


def _call_and_record(
    name: str, used: tuple[tuple[str, str], ...]
) -> tuple[sql.Composed, sql.Composed]:
    """The call with named arguments read from ``_args``, and ``_args`` itself: the JSON
    record of the arguments typed as the function's parameters."""
    call = sql.SQL("{}({})").format(
        _function(name),
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
    return call, record


@functools.lru_cache(maxsize=512)
def _scalar_call(name: str, used: tuple[tuple[str, str], ...], returns_void: bool) -> sql.SQL:
    """The text of a call that answers one value, composed once per function and arguments
    (every call of it is the same text; only the bound arguments differ)."""
    call, record = _call_and_record(name, used)
    source = sql.SQL(" FROM {}").format(record) if used else sql.SQL("")
    shape = "SELECT {}, NULL::text{}" if returns_void else "SELECT to_json({})::text{}"
    return sql.SQL(sql.SQL(shape).format(call, source).as_string(None))


BOUND_SHAPES = {
    "row": "SELECT to_jsonb(r) FROM {} AS r",
    # The row, and whether this transaction created it (a replay returns an older row).
    "row_created": "SELECT jsonb_build_array(to_jsonb(r), r.created_at = now()) FROM {} AS r",
    "rows": "SELECT coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb) FROM {} AS r",
    "value": "SELECT {}",
}


def bound_call(function: str, names: Sequence[str], *, shape: str = "row") -> sql.Composed:
    """``SELECT`` of ``public.<function>`` with each argument a bound named parameter, its
    result shaped as ``row`` (a composite as jsonb), ``rows`` (a set as a jsonb array),
    ``value`` (as is) or ``row_created`` (``[row, created by this transaction]``)."""
    call = sql.SQL("{}({})").format(
        _function(function),
        sql.SQL(", ").join(
            sql.SQL("{} => {}").format(sql.Identifier(name), sql.Placeholder(name))
            for name in names
        ),
    )
    return sql.SQL(BOUND_SHAPES[shape]).format(call)


def _table(relation: Relation) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(EXPOSED_SCHEMA), sql.Identifier(relation.name))


def read_statement(relation: Relation, plan: ReadPlan, *, exact_count: bool) -> Statement:
    """``GET /rest/v1/<relation>``: the page of ``plan`` (aliased as the relation, so an
    unknown column reads ``column <relation>.<name> does not exist``, as PostgREST's does)."""
    alias = sql.Identifier(relation.name)
    source = sql.SQL("{} AS {}").format(_table(relation), alias)
    query, params = render_read(plan, source, exact_count=exact_count, alias=alias)
    return Statement(query, params)


def _unknown_column(relation: Relation, column: str) -> PostgrestError:
    return PostgrestError(
        400,
        "PGRST204",
        f"Could not find the '{column}' column of '{relation.name}' in the schema cache",
    )


def _checked_columns(relation: Relation, columns: Sequence[str]) -> list[str]:
    for column in columns:
        if column not in relation.columns:
            raise _unknown_column(relation, column)
    return list(columns)


def _insert_columns(relation: Relation, rows: list[dict[str, Any]], plan: WritePlan) -> list[str]:
    if plan.insert_columns is not None:
        return _checked_columns(relation, plan.insert_columns)
    keys = list(rows[0]) if rows else []
    if any(set(row) != set(keys) for row in rows):
        raise PostgrestError(400, "PGRST102", "All object keys must match")
    return _checked_columns(relation, keys)


def _returning(
    write: sql.Composable, relation: Relation, plan: WritePlan, prefer: Preferences, params: Params
) -> Statement:
    if not prefer.representation:
        return Statement(sql.SQL("{}").format(write), params, answers_page=False)
    alias = sql.Identifier(relation.name)
    projection, element = _projection(plan.columns, alias, True)
    total = sql.SQL("count(*)" if prefer.exact_count else "NULL::bigint")
    query = sql.SQL(
        "WITH _written AS ({write} RETURNING {alias}.*)"
        " SELECT coalesce(json_agg({element}), '[]'::json)::text, count(*), {total}"
        " FROM (SELECT {projection} FROM _written AS {alias}) AS _page"
    ).format(write=write, alias=alias, element=element, total=total, projection=projection)
    return Statement(query, params)


def _names(columns: Sequence[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(column) for column in columns)


def _on_conflict(
    relation: Relation, columns: list[str], plan: WritePlan, prefer: Preferences
) -> sql.Composable:
    if prefer.resolution is None:
        return sql.SQL("")
    target = plan.on_conflict or relation.primary_key
    if not target:
        raise PostgrestError(
            400, "PGRST100", f"'{relation.name}' has no primary key: name on_conflict columns"
        )
    _checked_columns(relation, target)
    updates = [column for column in columns if column not in target]
    if prefer.resolution == "ignore-duplicates" or not updates:
        return sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(_names(target))
    assignments = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(column)) for column in updates
    )
    return sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {}").format(_names(target), assignments)


def insert_statement(
    relation: Relation, body: Any, plan: WritePlan, prefer: Preferences
) -> Statement:
    """``POST /rest/v1/<relation>``: insert one object or an array of them (an upsert with
    ``Prefer: resolution=...``); the rows are read from the JSON as the relation's row type."""
    rows = body if isinstance(body, list) else [body]
    if not all(isinstance(row, dict) for row in rows):
        raise PostgrestError(400, "PGRST102", "Empty or invalid json")
    columns = _insert_columns(relation, rows, plan)
    alias = sql.Identifier(relation.name)
    insert = sql.SQL(
        "INSERT INTO {table} AS {alias}{target} SELECT {names}"
        " FROM json_populate_recordset(NULL::{table}, %(body)s::json){conflict}"
    ).format(
        table=_table(relation),
        alias=alias,
        target=sql.SQL(" ({})").format(_names(columns)) if columns else sql.SQL(""),
        names=_names(columns),
        conflict=_on_conflict(relation, columns, plan, prefer),
    )
    return _returning(insert, relation, plan, prefer, {"body": json.dumps(rows)})


def _refuse_unfiltered(plan: WritePlan, verb: str) -> None:
    # Hosted Supabase loads pg-safeupdate for the API: a write to every row is refused.
    if not plan.filters:
        raise PostgrestError(
            400, "21000", f"{verb} requires a WHERE clause", hint=str(ErrorCode.INVALID_INPUT)
        )


def update_statement(
    relation: Relation, body: Any, plan: WritePlan, prefer: Preferences
) -> Statement | None:
    """``PATCH /rest/v1/<relation>?<filters>``: set the body's columns on the matching rows
    (None when the body names no column: nothing to do)."""
    if not isinstance(body, dict):
        raise PostgrestError(400, "PGRST102", "Empty or invalid json")
    _refuse_unfiltered(plan, "UPDATE")
    columns = _checked_columns(relation, list(body))
    if not columns:
        return None
    alias = sql.Identifier(relation.name)
    params = _Params({"body": json.dumps(body)})
    assignments = sql.SQL(", ").join(
        sql.SQL("{0} = _body.{0}").format(sql.Identifier(column)) for column in columns
    )
    update = sql.SQL(
        "UPDATE {table} AS {alias} SET {assignments}"
        " FROM json_populate_record(NULL::{table}, %(body)s::json) AS _body{where}"
    ).format(
        table=_table(relation),
        alias=alias,
        assignments=assignments,
        where=_where(plan.filters, params, alias),
    )
    return _returning(update, relation, plan, prefer, params.values)


def delete_statement(relation: Relation, plan: WritePlan, prefer: Preferences) -> Statement:
    """``DELETE /rest/v1/<relation>?<filters>``: delete the matching rows."""
    _refuse_unfiltered(plan, "DELETE")
    alias = sql.Identifier(relation.name)
    params = _Params()
    delete = sql.SQL("DELETE FROM {table} AS {alias}{where}").format(
        table=_table(relation), alias=alias, where=_where(plan.filters, params, alias)
    )
    return _returning(delete, relation, plan, prefer, params.values)
