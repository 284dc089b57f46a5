"""PostgREST's read grammar for set-returning rpc: parse query parameters into a plan, render SQL.

Supported: ``select=`` (columns, ``alias:column``), horizontal filters
(``eq, neq, gt, gte, lt, lte, in, is, like, ilike`` and ``not.``), ``order`` (``col.asc|desc``,
``nullsfirst|nullslast``), ``limit``/``offset`` and the ``Range`` header. Grammar errors are
PostgREST's ``PGRST100`` (400). Identifiers are always quoted and values always bound, so an
unknown column is PostgreSQL's own ``42703`` (400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from psycopg import sql

RESERVED_KEYS = frozenset({"select", "order", "limit", "offset", "apikey"})
COMPARISONS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
PATTERNS = {"like": "LIKE", "ilike": "ILIKE"}
IS_VALUES = {"null": "NULL", "true": "TRUE", "false": "FALSE", "unknown": "UNKNOWN"}
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RANGE_HEADER = re.compile(r"^\s*(?:items=)?(\d+)-(\d*)\s*$")
RESULT = sql.Identifier("_result")


class QueryGrammarError(ValueError):
    """A query parameter PostgREST could not parse (``PGRST100``)."""

    def __init__(self, message: str, details: str) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass(frozen=True)
class Column:
    """One selected column and the key it appears under."""

    name: str
    alias: str


@dataclass(frozen=True)
class Filter:
    """``column op value`` (``values`` for ``in``), negated by ``not.``."""

    column: str
    operator: str
    value: str
    values: tuple[str, ...] = ()
    negated: bool = False


@dataclass(frozen=True)
class OrderTerm:
    """One ``order`` term."""

    column: str
    descending: bool = False
    nulls: str | None = None  # "FIRST", "LAST" or PostgreSQL's default


@dataclass(frozen=True)
class ReadPlan:
    """What to read from a set-returning call: columns (None: all), filters, order, page."""

    columns: tuple[Column, ...] | None = None
    filters: tuple[Filter, ...] = ()
    order: tuple[OrderTerm, ...] = ()
    limit: int | None = None
    offset: int = 0

    @property
    def whole_rows(self) -> bool:
        """True when the rows are returned as the function gives them."""
        return self.columns is None


@dataclass
class _Params:
    values: dict[str, str | int] = field(default_factory=dict)

    def bind(self, value: str | int) -> sql.Placeholder:
        name = f"q{len(self.values)}"
        self.values[name] = value
        return sql.Placeholder(name)


def _name(text: str, what: str, whole: str) -> str:
    if not NAME.match(text):
        raise QueryGrammarError(f'"failed to parse {what} ({whole})"', f"unexpected {text!r}")
    return text


def parse_select(text: str) -> tuple[Column, ...] | None:
    """``select=``: ``*`` or a comma list of ``column`` / ``alias:column``."""
    if text.strip() == "*":
        return None
    columns = []
    for item in text.split(","):
        alias, _, name = item.strip().rpartition(":")
        name = _name(name, "select", text)
        columns.append(Column(name, _name(alias, "select", text) if alias else name))
    return tuple(columns)


def _in_values(text: str, whole: str) -> tuple[str, ...]:
    if not (text.startswith("(") and text.endswith(")")):
        raise QueryGrammarError(f'"failed to parse filter (in.{text})"', f"bad list in {whole}")
    values, current, quoted = [], "", False
    body = text[1:-1]
    index = 0
    while index < len(body):
        char = body[index]
        if char == '"':
            quoted = not quoted
        elif char == "\\" and quoted and index + 1 < len(body):
            index += 1
            current += body[index]
        elif char == "," and not quoted:
            values.append(current)
            current = ""
        else:
            current += char
        index += 1
    if quoted:
        raise QueryGrammarError(f'"failed to parse filter (in.{text})"', "unclosed quote")
    values.append(current)
    return tuple(values) if body else ()


def parse_filter(column: str, text: str) -> Filter:
    """A horizontal filter ``column=[not.]op.value``."""
    name = _name(column, "filter", f"{column}={text}")
    negated = text.startswith("not.")
    rest = text[4:] if negated else text
    operator, dot, value = rest.partition(".")
    if not dot or operator not in {*COMPARISONS, *PATTERNS, "in", "is"}:
        raise QueryGrammarError(
            f'"failed to parse filter ({text})" (line 1, column 1)',
            f"unknown operator in {column}={text}",
        )
    if operator == "is" and value.lower() not in IS_VALUES:
        raise QueryGrammarError(
            f'"failed to parse filter ({text})"', "is accepts null, true, false, unknown"
        )
    values = _in_values(value, f"{column}={text}") if operator == "in" else ()
    return Filter(name, operator, value, values, negated)


def parse_order(text: str) -> tuple[OrderTerm, ...]:
    """``order=col[.asc|.desc][.nullsfirst|.nullslast],…``."""
    terms = []
    for item in text.split(","):
        name, *options = item.strip().split(".")
        descending, nulls = False, None
        for option in options:
            if option in ("asc", "desc"):
                descending = option == "desc"
            elif option in ("nullsfirst", "nullslast"):
                nulls = "FIRST" if option == "nullsfirst" else "LAST"
            else:
                raise QueryGrammarError(f'"failed to parse order ({text})"', f"unexpected {option}")
        terms.append(OrderTerm(_name(name, "order", text), descending, nulls))
    return tuple(terms)


def _natural(text: str, what: str) -> int:
    if not text.isdigit():
        raise QueryGrammarError(f'"failed to parse {what} ({text})"', f"{what} must be a number")
    return int(text)


def _range(header: str | None) -> tuple[int, int | None]:
    if not header:
        return 0, None
    match = RANGE_HEADER.match(header)
    if match is None:
        raise QueryGrammarError('"failed to parse Range header"', f"unexpected {header!r}")
    start = int(match.group(1))
    end = match.group(2)
    return start, None if end == "" else max(int(end) - start + 1, 0)


def parse_plan(query: list[tuple[str, str]], range_header: str | None = None) -> ReadPlan:
    """The read plan of the non-argument query parameters (and the ``Range`` header)."""
    columns: tuple[Column, ...] | None = None
    filters: list[Filter] = []
    order: tuple[OrderTerm, ...] = ()
    limit, offset = None, 0
    for key, value in query:
        if key == "select":
            columns = parse_select(value)
        elif key == "order":
            order = parse_order(value)
        elif key == "limit":
            limit = _natural(value, "limit")
        elif key == "offset":
            offset = _natural(value, "offset")
        elif key != "apikey":
            filters.append(parse_filter(key, value))
    range_start, range_limit = _range(range_header)
    offset += range_start
    if range_limit is not None:
        limit = range_limit if limit is None else min(limit, range_limit)
    return ReadPlan(columns, tuple(filters), order, limit, offset)


def _condition(item: Filter, params: _Params) -> sql.Composable:
    column = sql.SQL("{}.{}").format(RESULT, sql.Identifier(item.column))
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


def _order_by(plan: ReadPlan) -> sql.Composable:
    if not plan.order:
        return sql.SQL("")
    terms = [
        sql.SQL("{}.{} {}{}").format(
            RESULT,
            sql.Identifier(term.column),
            sql.SQL("DESC" if term.descending else "ASC"),
            sql.SQL(f" NULLS {term.nulls}" if term.nulls else ""),
        )
        for term in plan.order
    ]
    return sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(terms))


def render_read(
    plan: ReadPlan, source: sql.Composable, *, exact_count: bool, rows_are_records: bool = True
) -> tuple[sql.Composed, dict[str, str | int]]:
    """``SELECT page_json, page_rows, total`` over ``source`` (a FROM list ending in the call
    aliased ``_result``); ``total`` is the filtered count when ``exact_count``, else NULL. The
    function runs once: its filtered rows are one CTE, materialized when counted.
    ``rows_are_records`` is False for a set of scalars (its one column is ``_result``)."""
    params = _Params()
    where: sql.Composable = sql.SQL("")
    if plan.filters:
        conditions = [_condition(item, params) for item in plan.filters]
        where = sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(conditions))
    if plan.columns is None:
        whole = sql.SQL("{}.*" if rows_are_records else "{}._result").format(RESULT)
        projection: sql.Composable = sql.SQL("{}").format(whole)
        element: sql.Composable = sql.SQL("_page" if rows_are_records else "_page._result")
    else:
        projection = sql.SQL(", ").join(
            sql.SQL("{}.{} AS {}").format(
                RESULT, sql.Identifier(column.name), sql.Identifier(column.alias)
            )
            for column in plan.columns
        )
        element = sql.SQL("_page")
    page: sql.Composable = sql.SQL("")
    if plan.limit is not None:
        page = sql.SQL(" LIMIT {}").format(params.bind(plan.limit))
    if plan.offset:
        page = sql.SQL("{} OFFSET {}").format(page, params.bind(plan.offset))
    total: sql.Composable = sql.SQL("NULL::bigint")
    if exact_count:
        total = sql.SQL("(SELECT count(*) FROM _rows)")
    statement = sql.SQL(
        "WITH _rows AS (SELECT {result}.* FROM {source}{where})"
        " SELECT coalesce(json_agg({element}), '[]'::json)::text, count(*), {total}"
        " FROM (SELECT {projection} FROM _rows AS {result}{order}{page}) AS _page"
    ).format(
        result=RESULT,
        element=element,
        total=total,
        projection=projection,
        source=source,
        where=where,
        order=_order_by(plan),
        page=page,
    )
    return statement, params.values
