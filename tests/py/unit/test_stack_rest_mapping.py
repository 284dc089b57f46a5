"""PostgREST's SQLSTATE → HTTP status mapping, as the gateway applies it."""

from __future__ import annotations

import pytest

from directorstudio.contracts.postgrest.errors import sqlstate_status


@pytest.mark.parametrize(
    ("sqlstate", "role", "status"),
    [
        ("P0001", "authenticated", 400),
        ("P0002", "authenticated", 500),
        ("23505", "authenticated", 409),
        ("23503", "authenticated", 409),
        ("42501", "anon", 401),
        ("42501", "authenticated", 403),
        ("42501", "service_role", 403),
        ("42883", "anon", 404),
        ("42P01", "anon", 404),
        ("25006", "anon", 405),
        ("28000", "anon", 403),
        ("0P000", "anon", 403),
        ("0L000", "anon", 403),
        ("08006", "anon", 503),
        ("53300", "anon", 503),
        ("PT402", "authenticated", 402),
        ("PT409", "authenticated", 409),
        ("22023", "authenticated", 400),
        ("23514", "authenticated", 400),
    ],
)
def test_each_sqlstate_maps_to_postgrests_status(sqlstate: str, role: str, status: int) -> None:
    assert sqlstate_status(sqlstate, role) == status
