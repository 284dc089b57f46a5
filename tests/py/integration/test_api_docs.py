"""docs/api.md documents every function a client can call over rpc."""

from __future__ import annotations

from typing import Any

import psycopg

from directorstudio import paths

API_DOC = paths.PROJECT_ROOT / "docs" / "api.md"

CALLABLE_OVER_RPC = """
    SELECT p.proname
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public'
      AND p.prorettype <> 'trigger'::regtype
      AND (has_function_privilege('authenticated', p.oid, 'EXECUTE')
           OR has_function_privilege('service_role', p.oid, 'EXECUTE'))
    ORDER BY 1
"""


def test_every_function_callable_over_rpc_is_documented_in_the_api_reference(
    admin_conn: psycopg.Connection[Any],
) -> None:
    documented = API_DOC.read_text()
    names = [row[0] for row in admin_conn.execute(CALLABLE_OVER_RPC).fetchall()]
    assert names, "the catalog query found no rpc function"
    undocumented = [name for name in names if f"`{name}(" not in documented]
    assert undocumented == []
