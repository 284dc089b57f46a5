"""The database, the gateway and every client path read each error the same way.

Every SQLSTATE of the error table (each whole SQLSTATE, one of each class, one the table does not
know) and every documented code is raised in the database and seen through each path: the
database's own mapping (``private.error_code``, used by ``sync_push``), the server's translation,
the direct PostgreSQL transport, the gateway's HTTP answer and supabase-py through the gateway.
Each must give the table's code and class, and the gateway PostgREST's status.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from directorstudio.contracts.errors import (
    ERROR_SPECS,
    SQLSTATE_RULES,
    DirectorStudioError,
    ErrorCode,
    code_for,
    rest_status,
    spec_for,
)
from directorstudio.db.context import claims_for_user, request_transaction
from directorstudio_client.transport.postgres import PostgresTransport
from directorstudio_client.transport.supabase import SupabaseTransport
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.users import create_user

Conn = psycopg.Connection[Any]

RAISING_FUNCTIONS = """
CREATE FUNCTION public.raise_sqlstate(p_sqlstate text, p_hint text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
    IF p_hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = 'raised ' || p_sqlstate;
    END IF;
    RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = 'raised ' || p_sqlstate, HINT = p_hint;
END;
$$;
CREATE FUNCTION public.mapped_in_sql(p_sqlstate text, p_hint text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = '' AS $$
DECLARE
    v_state text;
    v_hint text;
    v_code text;
BEGIN
    PERFORM public.raise_sqlstate(p_sqlstate, p_hint);
    RETURN NULL;
EXCEPTION WHEN OTHERS OR query_canceled THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_hint = PG_EXCEPTION_HINT;
    v_code := private.error_code(v_state, nullif(v_hint, ''));
    RETURN jsonb_build_object(
        'sqlstate', v_state, 'code', v_code, 'transient', private.error_is_transient(v_code));
END;
$$;
GRANT EXECUTE ON FUNCTION public.raise_sqlstate(text, text) TO authenticated;
GRANT EXECUTE ON FUNCTION public.mapped_in_sql(text, text) TO authenticated;
"""


def _cases() -> list[tuple[str, str | None]]:
    """(SQLSTATE, HINT): every whole SQLSTATE of the table, a member of each class it names,
    one SQLSTATE it does not know, and each documented code as raise_error raises it."""
    cases: list[tuple[str, str | None]] = []
    for rule in SQLSTATE_RULES:
        cases.append((rule.pattern if len(rule.pattern) == 5 else rule.pattern + "ZZZ", None))
    cases.append(("ZZ999", None))
    cases += [(spec.sqlstate, str(code)) for code, spec in ERROR_SPECS.items()]
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def paths(
    pg_server: Any, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """One database with the raising functions, one user, and a client of each path."""
    from tests.support.cluster import fresh_database

    with fresh_database(pg_server, template_db) as url:
        with psycopg.connect(url) as admin:
            admin.execute(RAISING_FUNCTIONS)
            user_id = str(create_user(admin, "errors@example.com"))
        render_dir: Path = tmp_path_factory.mktemp("renders")
        with running_gateway(url, render_dir=render_dir) as gateway:
            supabase = SupabaseTransport(
                gateway.url, gateway.keys.anon_key, auto_refresh_token=False
            )
            supabase.sign_up("gateway@example.com", "correct horse battery")
            with psycopg.connect(url) as conn:
                yield {
                    "conn": conn,
                    "user_id": user_id,
                    "postgres": PostgresTransport.for_user(url, user_id),
                    "gateway": gateway,
                    "supabase": supabase,
                }


def _args(sqlstate: str, hint: str | None) -> dict[str, Any]:
    return {"p_sqlstate": sqlstate, "p_hint": hint}


def test_the_database_maps_each_error_as_the_table_does(paths: dict[str, Any]) -> None:
    conn: Conn = paths["conn"]
    disagreements = []
    for sqlstate, hint in CASES:
        row = conn.execute("SELECT public.mapped_in_sql(%s, %s)", (sqlstate, hint)).fetchone()
        code = code_for(sqlstate, hint)
        expected = {"sqlstate": sqlstate, "code": str(code), "transient": spec_for(code).transient}
        if row is None or row[0] != expected:
            disagreements.append((sqlstate, hint, row))
    assert disagreements == []


def test_the_server_and_the_direct_transport_translate_each_error_as_the_table_does(
    paths: dict[str, Any],
) -> None:
    conn: Conn = paths["conn"]
    disagreements = []
    for sqlstate, hint in CASES:
        with (
            pytest.raises(DirectorStudioError) as server,
            request_transaction(conn, "authenticated", claims_for_user(paths["user_id"])),
        ):
            conn.execute("SELECT public.raise_sqlstate(%s, %s)", (sqlstate, hint))
        with pytest.raises(DirectorStudioError) as direct:
            paths["postgres"].rpc("raise_sqlstate", _args(sqlstate, hint))
        seen = (server.value.code, direct.value.code)
        if seen != (code_for(sqlstate, hint),) * 2:
            disagreements.append((sqlstate, hint, seen))
    assert disagreements == []


def test_the_gateway_answers_each_error_with_postgrests_status_and_the_client_reads_it(
    paths: dict[str, Any],
) -> None:
    gateway: RunningGateway = paths["gateway"]
    supabase: SupabaseTransport = paths["supabase"]
    headers = {
        "apikey": gateway.keys.anon_key,
        "Authorization": f"Bearer {supabase._access_token()}",
    }
    disagreements = []
    with httpx.Client(base_url=gateway.url, headers=headers) as http:
        for sqlstate, hint in CASES:
            response = http.post("/rest/v1/rpc/raise_sqlstate", json=_args(sqlstate, hint))
            body = response.json()
            status = rest_status(sqlstate, authenticated=True, message=body["message"])
            with pytest.raises(DirectorStudioError) as through_supabase:
                supabase.rpc("raise_sqlstate", _args(sqlstate, hint))
            seen = (response.status_code, body["code"], body["hint"], through_supabase.value.code)
            if seen != (status, sqlstate, hint, code_for(sqlstate, hint)):
                disagreements.append((sqlstate, hint, seen))
    assert disagreements == []


def test_the_cases_cover_every_code_and_every_rule_of_the_table() -> None:
    assert {code_for(state, hint) for state, hint in CASES} == set(ErrorCode)
    assert len(CASES) == len(SQLSTATE_RULES) + 1 + len(ERROR_SPECS)
