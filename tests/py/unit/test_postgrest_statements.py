"""The PostgREST module's pure parts: the context's settings, the write grammar and the SQL of
table writes (identifiers quoted, values bound, PostgREST's refusals)."""

from __future__ import annotations

import json

import pytest

from directorstudio.contracts.postgrest.catalog import Relation
from directorstudio.contracts.postgrest.context import RequestContext, context_params
from directorstudio.contracts.postgrest.errors import PostgrestError
from directorstudio.contracts.postgrest.grammar import (
    Preferences,
    QueryGrammarError,
    WritePlan,
    parse_prefer,
    parse_write,
)
from directorstudio.contracts.postgrest.statements import (
    delete_statement,
    insert_statement,
    update_statement,
)

NOTES = Relation("notes", "r", ("id", "user_id", "body"), ("id",))
REPRESENTATION = Preferences(representation=True)


def test_the_context_sets_search_path_role_and_claims_then_the_request() -> None:
    context = RequestContext(
        "authenticated", {"sub": "u"}, method="GET", path="/rest/v1/x", headers={"X-A": "1"}
    )
    settings = json.loads(context_params(context)["pgrst_settings"])
    assert list(settings) == [
        "search_path",
        "role",
        "request.jwt.claims",
        "request.method",
        "request.path",
        "request.headers",
    ]
    assert json.loads(settings["request.jwt.claims"]) == {"sub": "u"}
    assert json.loads(settings["request.headers"]) == {"x-a": "1"}


def test_a_context_without_claims_carries_the_role_as_its_claims() -> None:
    settings = json.loads(context_params(RequestContext("anon"))["pgrst_settings"])
    assert json.loads(settings["request.jwt.claims"]) == {"role": "anon"}


def test_a_role_that_is_not_an_api_role_is_refused() -> None:
    with pytest.raises(ValueError, match="not an API role"):
        RequestContext("postgres")


def test_prefer_tokens_are_read_in_any_order() -> None:
    prefer = parse_prefer("count=exact, return=representation,resolution=merge-duplicates")
    assert prefer == Preferences(True, True, "merge-duplicates")
    assert parse_prefer(None) == Preferences()


def test_a_write_plan_takes_filters_select_on_conflict_and_quoted_columns() -> None:
    plan = parse_write(
        [("id", "eq.1"), ("select", "id"), ("on_conflict", "id"), ("columns", '"id","body"')]
    )
    assert [item.column for item in plan.filters] == ["id"]
    assert plan.on_conflict == ("id",)
    assert plan.insert_columns == ("id", "body")


def test_paging_a_write_is_a_grammar_error() -> None:
    with pytest.raises(QueryGrammarError):
        parse_write([("limit", "1")])


def test_an_insert_binds_the_rows_as_one_json_value_and_quotes_every_name() -> None:
    statement = insert_statement(NOTES, {"id": 1, "body": "x'); DROP"}, WritePlan(), REPRESENTATION)
    text = statement.query.as_string(None)
    assert "DROP" not in text
    assert '"public"."notes"' in text
    assert '("id", "body")' in text
    assert json.loads(statement.params["body"]) == [{"id": 1, "body": "x'); DROP"}]


def test_an_upsert_updates_the_written_columns_on_the_primary_key() -> None:
    prefer = Preferences(resolution="merge-duplicates")
    text = insert_statement(NOTES, {"id": 1, "body": "b"}, WritePlan(), prefer).query.as_string(
        None
    )
    assert 'ON CONFLICT ("id") DO UPDATE SET "body" = EXCLUDED."body"' in text
    ignore = Preferences(resolution="ignore-duplicates")
    text = insert_statement(NOTES, {"id": 1}, WritePlan(), ignore).query.as_string(None)
    assert 'ON CONFLICT ("id") DO NOTHING' in text


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"nope": 1}, "PGRST204"),
        ([{"id": 1}, {"body": "b"}], "PGRST102"),
        ([1], "PGRST102"),
        ("text", "PGRST102"),
    ],
)
def test_a_body_that_does_not_fit_the_table_is_refused(body: object, code: str) -> None:
    with pytest.raises(PostgrestError) as raised:
        insert_statement(NOTES, body, WritePlan(), REPRESENTATION)
    assert (raised.value.status, raised.value.code) == (400, code)


def test_an_update_or_delete_without_a_filter_is_refused_as_safeupdate_does() -> None:
    with pytest.raises(PostgrestError) as update:
        update_statement(NOTES, {"body": "b"}, WritePlan(), REPRESENTATION)
    with pytest.raises(PostgrestError) as delete:
        delete_statement(NOTES, WritePlan(), REPRESENTATION)
    assert update.value.message == "UPDATE requires a WHERE clause"
    assert delete.value.message == "DELETE requires a WHERE clause"
    assert update.value.body["hint"] == "invalid_input"


def test_a_minimal_write_answers_no_page() -> None:
    plan = parse_write([("id", "eq.1")])
    statement = update_statement(NOTES, {"body": "b"}, plan, Preferences())
    assert statement is not None
    assert not statement.answers_page
    assert "RETURNING" not in statement.query.as_string(None)
    assert update_statement(NOTES, {}, plan, Preferences()) is None
