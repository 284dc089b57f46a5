"""The local stack's secret and API keys: generated once, kept private, stable across restarts."""

from __future__ import annotations

import stat
from pathlib import Path

from directorstudio.stack import keys, tokens


def test_keys_are_created_once_and_read_back_unchanged(tmp_path: Path) -> None:
    first = keys.load_or_create(tmp_path)
    assert keys.load_or_create(tmp_path) == first


def test_the_keys_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    keys.load_or_create(tmp_path)
    mode = stat.S_IMODE((tmp_path / keys.KEYS_FILE).stat().st_mode)
    assert mode == 0o600


def test_the_api_keys_are_long_lived_jwts_of_their_roles(tmp_path: Path) -> None:
    created = keys.load_or_create(tmp_path)
    anon = tokens.decode(created.anon_key, created.jwt_secret)
    service = tokens.decode(created.service_role_key, created.jwt_secret)
    assert anon["role"] == "anon"
    assert service["role"] == "service_role"
    assert anon["iss"] == "supabase-demo"
    assert anon["exp"] - anon["iat"] >= 365 * 24 * 3600


def test_two_stacks_get_different_secrets(tmp_path: Path) -> None:
    one = keys.load_or_create(tmp_path / "one")
    two = keys.load_or_create(tmp_path / "two")
    assert one.jwt_secret != two.jwt_secret
