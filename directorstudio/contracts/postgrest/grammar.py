"""PostgREST's query grammar, for table endpoints and set-returning rpc: query parameters and
headers parsed into plans (rendered as SQL by :mod:`.statements`).

Supported: ``select=`` (columns, ``alias:column``), horizontal filters
(``eq, neq, gt, gte, lt, lte, in, is, like, ilike`` and ``not.``), ``order`` (``col.asc|desc``,
``nullsfirst|nullslast``), ``limit``/``offset`` and the ``Range`` header, ``on_conflict`` and
the ``Prefer`` header (``return``, ``count``, ``resolution``). Grammar errors are PostgREST's
``PGRST100`` (400). Identifiers are always quoted and values always bound, so an unknown column
is PostgreSQL's own ``42703`` (400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RESERVED_KEYS = frozenset({"select", "order", "limit", "offset", "apikey"})
# Query parameters of a write that are not filters.
WRITE_KEYS = frozenset({"select", "on_conflict", "columns", "apikey"})
COMPARISONS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
PATTERNS = {"like": "LIKE", "ilike": "ILIKE"}
IS_VALUES = {"null": "NULL", "true": "TRUE", "false": "FALSE", "unknown": "UNKNOWN"}
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RANGE_HEADER = re.compile(r"^\s*(?:items=)?(\d+)-(\d*)\s*$")


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


@dataclass(frozen=True)
class Preferences:
    """What a ``Prefer`` header asks for (PostgREST's defaults when absent)."""

    representation: bool = False
    exact_count: bool = False
    resolution: str | None = None  # "merge-duplicates" or "ignore-duplicates"


def parse_prefer(header: str | None) -> Preferences:
    """The ``Prefer`` header's ``return=``, ``count=`` and ``resolution=`` (others ignored, as
    PostgREST does by default)."""
    tokens = {item.strip() for item in (header or "").split(",") if item.strip()}
    resolution = None
    for choice in ("merge-duplicates", "ignore-duplicates"):
        if f"resolution={choice}" in tokens:
            resolution = choice
    return Preferences(
        representation="return=representation" in tokens,
        exact_count="count=exact" in tokens,
        resolution=resolution,
    )


def parse_columns_list(text: str, what: str) -> tuple[str, ...]:
    """A comma list of column names (``on_conflict=``, ``columns=``)."""
    return tuple(_name(item.strip().strip('"'), what, text) for item in text.split(","))


@dataclass(frozen=True)
class WritePlan:
    """What a write targets and answers: filters (PATCH/DELETE), the representation's columns,
    the conflict target of an upsert."""

    filters: tuple[Filter, ...] = ()
    columns: tuple[Column, ...] | None = None
    on_conflict: tuple[str, ...] | None = None
    insert_columns: tuple[str, ...] | None = None


def parse_write(query: list[tuple[str, str]]) -> WritePlan:
    """The plan of a write's query parameters; paging a write is refused (``PGRST100``)."""
    columns: tuple[Column, ...] | None = None
    on_conflict: tuple[str, ...] | None = None
    insert_columns: tuple[str, ...] | None = None
    filters: list[Filter] = []
    for key, value in query:
        if key == "select":
            columns = parse_select(value)
        elif key == "on_conflict":
            on_conflict = parse_columns_list(value, "on_conflict")
        elif key == "columns":
            insert_columns = parse_columns_list(value, "columns")
        elif key in ("limit", "offset", "order"):
            raise QueryGrammarError(
                f'"failed to parse {key} ({value})"', f"{key} is not supported on a write"
            )
        elif key not in WRITE_KEYS:
            filters.append(parse_filter(key, value))
    return WritePlan(tuple(filters), columns, on_conflict, insert_columns)
