"""The local stack's secrets: generated once, kept private, stable across restarts; the signing
key's public half is the JWKS."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from directorstudio.stack import keys, tokens


def test_keys_are_created_once_and_read_back_unchanged(tmp_path: Path) -> None:
    first = keys.load_or_create(tmp_path)
    assert keys.load_or_create(tmp_path) == first
    assert first.signing_key is not None


def test_the_keys_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    keys.load_or_create(tmp_path)
    mode = stat.S_IMODE((tmp_path / keys.KEYS_FILE).stat().st_mode)
    assert mode == 0o600


def test_the_api_keys_are_long_lived_jwts_of_their_roles(tmp_path: Path) -> None:
    created = keys.load_or_create(tmp_path)
    anon = tokens.decode(created.anon_key, created)
    service = tokens.decode(created.service_role_key, created)
    assert anon["role"] == "anon"
    assert service["role"] == "service_role"
    assert anon["iss"] == "supabase-demo"
    assert anon["exp"] - anon["iat"] >= 365 * 24 * 3600


def test_two_stacks_get_different_secrets_and_signing_keys(tmp_path: Path) -> None:
    one = keys.load_or_create(tmp_path / "one")
    two = keys.load_or_create(tmp_path / "two")
    assert one.jwt_secret != two.jwt_secret
    assert one.signing_key_id != two.signing_key_id


def test_the_jwks_lists_the_public_half_of_the_signing_key_only(tmp_path: Path) -> None:
    created = keys.load_or_create(tmp_path)
    assert created.signing_key is not None
    (public,) = created.jwks["keys"]
    assert public == {
        "kty": "EC",
        "crv": "P-256",
        "x": created.signing_key["x"],
        "y": created.signing_key["y"],
        "kid": created.signing_key_id,
        "alg": "ES256",
        "use": "sig",
        "key_ops": ["verify"],
    }
    assert created.signing_key["d"] not in json.dumps(created.jwks)


def test_a_keys_file_of_an_older_release_gains_a_signing_key_and_keeps_its_keys(
    tmp_path: Path,
) -> None:
    old = keys.generate()
    (tmp_path / keys.KEYS_FILE).write_text(
        json.dumps(
            {
                "jwt_secret": old.jwt_secret,
                "anon_key": old.anon_key,
                "service_role_key": old.service_role_key,
                "db_password": old.db_password,
            }
        )
    )
    upgraded = keys.load_or_create(tmp_path)
    assert upgraded.signing_key is not None
    assert (upgraded.jwt_secret, upgraded.anon_key) == (old.jwt_secret, old.anon_key)
    assert keys.load_or_create(tmp_path) == upgraded
    legacy_user_token = tokens.encode({"sub": "u1", "role": "authenticated"}, old.jwt_secret)
    assert tokens.decode(legacy_user_token, upgraded)["sub"] == "u1"


def test_the_private_key_never_shows_in_the_keys_repr() -> None:
    created = keys.generate()
    assert created.signing_key is not None
    assert created.signing_key["d"] not in repr(created)
    assert created.jwt_secret not in repr(created)


def test_the_reuse_interval_comes_from_config_toml_with_gotrues_default(tmp_path: Path) -> None:
    from directorstudio.stack.stack import CONFIG_TOML, refresh_token_reuse_interval

    assert refresh_token_reuse_interval(CONFIG_TOML) == 10
    custom = tmp_path / "config.toml"
    custom.write_text("[auth]\nrefresh_token_reuse_interval = 3\n")
    assert refresh_token_reuse_interval(custom) == 3
    assert refresh_token_reuse_interval(tmp_path / "absent.toml") == 10


def test_the_auth_rate_limits_come_from_config_toml(tmp_path: Path) -> None:
    from directorstudio.stack.stack import CONFIG_TOML, auth_rate_limits

    assert auth_rate_limits(CONFIG_TOML) == {}
    custom = tmp_path / "config.toml"
    custom.write_text(
        "[auth.rate_limit]\nanonymous_users = 30\ntoken_refresh = 150\nsms_sent = 1\n"
    )
    assert auth_rate_limits(custom) == {"anonymous_users": 30, "token_refresh": 150}
