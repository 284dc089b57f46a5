"""Access-token verification without a database."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.server.auth import TokenVerifier, bearer_token, secrets_equal

SECRET = "unit-test-jwt-secret-with-32-bytes-or-more"


def _token(**overrides: object) -> str:
    claims: dict[str, object] = {
        "sub": str(uuid.UUID(int=5)),
        "aud": "authenticated",
        "role": "authenticated",
        "exp": int(time.time()) + 60,
    }
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, "HS256")


def _verifier(**kwargs: object) -> TokenVerifier:
    return TokenVerifier(secret=SECRET, **kwargs)  # type: ignore[arg-type]


def test_a_valid_token_yields_the_user_and_its_claims() -> None:
    caller = _verifier().verify_user(_token())
    assert caller.user_id == str(uuid.UUID(int=5))
    assert caller.claims["role"] == "authenticated"


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": None},
        {"sub": None},
        {"sub": ""},
        {"role": None},
        {"role": "anon"},
        {"aud": None},
        {"aud": "other"},
        {"exp": int(time.time()) - 1},
    ],
)
def test_a_token_missing_or_breaking_a_required_claim_is_rejected(
    overrides: dict[str, object],
) -> None:
    with pytest.raises(DirectorStudioError) as raised:
        _verifier().verify_user(_token(**overrides))
    assert raised.value.code == "not_authenticated"


def test_an_algorithm_outside_the_allow_list_is_rejected() -> None:
    claims = jwt.decode(_token(), SECRET, algorithms=["HS256"], audience="authenticated")
    token = jwt.encode(claims, SECRET * 2, "HS512")
    with pytest.raises(DirectorStudioError, match="algorithm"):
        _verifier().verify_user(token)


def test_hs256_is_refused_when_no_secret_is_configured() -> None:
    with pytest.raises(DirectorStudioError, match="algorithm"):
        TokenVerifier(secret=None).verify_user(_token())


def test_a_configured_issuer_must_match() -> None:
    verifier = _verifier(issuer="https://project.supabase.co/auth/v1")
    verifier.verify_user(_token(iss="https://project.supabase.co/auth/v1"))
    with pytest.raises(DirectorStudioError):
        verifier.verify_user(_token(iss="https://elsewhere.supabase.co/auth/v1"))


def test_a_service_role_token_is_recognised_without_an_audience() -> None:
    service = jwt.encode({"role": "service_role", "exp": int(time.time()) + 60}, SECRET, "HS256")
    assert _verifier().is_service_token(service)
    assert not _verifier().is_service_token(_token())
    assert not _verifier().is_service_token("garbage")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "Token abc"])
def test_only_a_bearer_authorization_carries_a_token(header: str | None) -> None:
    with pytest.raises(DirectorStudioError):
        bearer_token(header)


def test_the_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_token("bearer abc") == "abc"


def test_an_unset_secret_matches_nothing() -> None:
    assert secrets_equal("a", "a")
    assert not secrets_equal("a", "b")
    assert not secrets_equal("", "")
    assert not secrets_equal("a", None)
