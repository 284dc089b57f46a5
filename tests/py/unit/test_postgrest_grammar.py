"""PostgREST's read grammar parses into a plan, and bad grammar is PGRST100's error."""

from __future__ import annotations

import pytest
from psycopg import sql

from directorstudio.contracts.postgrest.grammar import (
    Column,
    Filter,
    OrderTerm,
    QueryGrammarError,
    ReadPlan,
    parse_plan,
)
from directorstudio.contracts.postgrest.statements import render_read


def test_select_filters_order_and_page_parse_into_a_typed_plan() -> None:
    plan = parse_plan(
        [
            ("select", "id,name:title"),
            ("archived", "eq.false"),
            ("id", 'not.in.(1,"2,3")'),
            ("note", "is.null"),
            ("order", "title.desc.nullslast,id"),
            ("limit", "10"),
            ("offset", "5"),
        ]
    )
    assert plan == ReadPlan(
        columns=(Column("id", "id"), Column("title", "name")),
        filters=(
            Filter("archived", "eq", "false"),
            Filter("id", "in", '(1,"2,3")', ("1", "2,3"), negated=True),
            Filter("note", "is", "null"),
        ),
        order=(OrderTerm("title", descending=True, nulls="LAST"), OrderTerm("id")),
        limit=10,
        offset=5,
    )


def test_a_range_header_narrows_the_page() -> None:
    plan = parse_plan([("limit", "100")], "10-19")
    assert (plan.offset, plan.limit) == (10, 10)
    assert parse_plan([], "3-").limit is None


@pytest.mark.parametrize(
    "query",
    [
        [("select", "a,,b")],
        [("select", "rel(*)")],
        [("title", "sideways.x")],
        [("title", "eq")],
        [("title", "is.maybe")],
        [("id", "in.1,2")],
        [("order", "title.sideways")],
        [("order", "bad name")],
        [("limit", "-1")],
        [("offset", "many")],
        [("bad;column", "eq.1")],
    ],
)
def test_bad_grammar_is_refused(query: list[tuple[str, str]]) -> None:
    with pytest.raises(QueryGrammarError):
        parse_plan(query)


def test_a_bad_range_header_is_refused() -> None:
    with pytest.raises(QueryGrammarError):
        parse_plan([], "rows=a-b")


def test_values_are_bound_and_identifiers_quoted() -> None:
    plan = parse_plan([("title", "eq.x'; DROP TABLE t; --"), ("name", "like.*a*")])
    statement, params = render_read(plan, sql.SQL("f() AS _result"), exact_count=True)
    text = statement.as_string(None)
    assert "DROP" not in text
    assert '"_result"."title" = %(q0)s' in text
    assert params == {"q0": "x'; DROP TABLE t; --", "q1": "%a%"}
