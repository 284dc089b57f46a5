"""The gateway keeps the exposed functions in a schema cache, as PostgREST does: a name it
does not know is read from the catalog (so a function created after startup is callable at
once), a kept function whose call names a function that no longer exists is read again, and
``NOTIFY pgrst, 'reload schema'`` empties the cache."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    clock_fixture,
    gateway_fixture,
    sync_client,
)

Conn = psycopg.Connection[Any]
RELOAD_TIMEOUT = 10.0


def _create(admin_conn: Conn, definition: str, signature: str) -> None:
    admin_conn.execute(definition)
    admin_conn.execute(f"GRANT EXECUTE ON FUNCTION public.{signature} TO anon")


def _call(gateway: RunningGateway, name: str, args: dict[str, Any] | None = None) -> Any:
    return sync_client(gateway).rpc(name, args or {}).execute().data


def _status(gateway: RunningGateway, name: str) -> tuple[int, str]:
    key = gateway.keys.anon_key
    reply = httpx.post(
        f"{gateway.url}/rest/v1/rpc/{name}", json={}, headers={"apikey": key}, timeout=30
    )
    return reply.status_code, reply.text


def test_a_function_created_after_startup_is_callable_at_once(
    gateway: RunningGateway, admin_conn: Conn
) -> None:
    from postgrest.exceptions import APIError

    with pytest.raises(APIError) as missing:
        _call(gateway, "t_later")
    assert missing.value.code == "PGRST202"

    _create(
        admin_conn,
        "CREATE FUNCTION public.t_later() RETURNS text LANGUAGE sql AS $$ SELECT 'here' $$",
        "t_later()",
    )
    assert _call(gateway, "t_later") == "here"


def test_a_kept_function_recreated_with_other_argument_types_is_read_again(
    gateway: RunningGateway, admin_conn: Conn
) -> None:
    _create(
        admin_conn,
        "CREATE FUNCTION public.t_typed(p_x integer) RETURNS text"
        " LANGUAGE sql AS $$ SELECT 'integer ' || p_x $$",
        "t_typed(integer)",
    )
    assert _call(gateway, "t_typed", {"p_x": 5}) == "integer 5"
    admin_conn.execute("DROP FUNCTION public.t_typed(integer)")
    _create(
        admin_conn,
        "CREATE FUNCTION public.t_typed(p_x text) RETURNS text"
        " LANGUAGE sql AS $$ SELECT 'text ' || p_x $$",
        "t_typed(text)",
    )

    assert _call(gateway, "t_typed", {"p_x": "5"}) == "text 5"


@pytest.mark.parametrize("payload", ["reload schema", ""])
def test_notify_pgrst_reloads_the_schema_cache(
    gateway: RunningGateway, admin_conn: Conn, payload: str
) -> None:
    _create(
        admin_conn,
        "CREATE FUNCTION public.t_shape() RETURNS void LANGUAGE sql AS $$ SELECT $$",
        "t_shape()",
    )
    assert _status(gateway, "t_shape") == (204, "")  # kept: returns nothing
    admin_conn.execute("DROP FUNCTION public.t_shape()")
    _create(
        admin_conn,
        "CREATE FUNCTION public.t_shape() RETURNS text LANGUAGE sql AS $$ SELECT 'a value' $$",
        "t_shape()",
    )
    # Until the reload the kept signature is what the gateway serves, as PostgREST's cache is.
    assert _status(gateway, "t_shape") == (204, "")

    reloads = gateway.schema.reloads
    admin_conn.execute("SELECT pg_notify('pgrst', %s)", (payload,))
    assert gateway.schema.wait_for_reload(reloads, RELOAD_TIMEOUT)

    assert _status(gateway, "t_shape") == (200, '"a value"')


def test_other_pgrst_notifications_keep_the_cache(
    gateway: RunningGateway, admin_conn: Conn
) -> None:
    _create(
        admin_conn,
        "CREATE FUNCTION public.t_kept() RETURNS text LANGUAGE sql AS $$ SELECT 'kept' $$",
        "t_kept()",
    )
    assert _call(gateway, "t_kept") == "kept"
    reloads = gateway.schema.reloads
    admin_conn.execute("NOTIFY pgrst, 'reload config'")
    admin_conn.execute("NOTIFY pgrst, 'reload schema'")  # a marker: every earlier one was seen
    assert gateway.schema.wait_for_reload(reloads, RELOAD_TIMEOUT)
    assert gateway.schema.reloads == reloads + 1
