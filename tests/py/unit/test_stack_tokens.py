"""Tokens as GoTrue issues them and PostgREST verifies them: user access tokens ES256 with the
stack's key (``kid`` in the header), the legacy API keys HS256 with the JWT secret."""

from __future__ import annotations

import base64
import json

import pytest

from directorstudio.stack import keys, tokens

STACK = keys.generate()
SECRET = STACK.jwt_secret


def _header(token: str) -> dict[str, str]:
    part = token.split(".")[0]
    decoded: dict[str, str] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def test_an_hs256_token_decodes_to_the_claims_it_was_signed_with() -> None:
    token = tokens.encode({"sub": "u1", "role": "authenticated", "exp": 2_000}, SECRET)
    assert tokens.decode(token, STACK, now=1_000) == {
        "sub": "u1",
        "role": "authenticated",
        "exp": 2_000,
    }


def test_the_legacy_header_names_hs256() -> None:
    assert _header(tokens.encode({}, SECRET)) == {"alg": "HS256", "typ": "JWT"}


def test_an_access_token_is_es256_with_the_stacks_kid_and_decodes_to_its_claims() -> None:
    token = tokens.sign_access_token({"sub": "u1", "exp": 2_000}, STACK)
    assert _header(token) == {"alg": "ES256", "kid": STACK.signing_key_id, "typ": "JWT"}
    assert tokens.decode(token, STACK, now=1_000) == {"sub": "u1", "exp": 2_000}


def test_an_access_token_of_another_stack_is_rejected() -> None:
    token = tokens.sign_access_token({"sub": "u1"}, keys.generate())
    with pytest.raises(tokens.TokenError) as raised:
        tokens.decode(token, STACK)
    assert raised.value.reason == "unknown_key"


def test_a_token_signed_with_another_secret_is_rejected() -> None:
    token = tokens.encode({"sub": "u1"}, "another-secret-of-the-right-length-32+")
    with pytest.raises(tokens.TokenError) as raised:
        tokens.decode(token, STACK)
    assert not raised.value.expired


def test_a_token_with_altered_claims_is_rejected() -> None:
    header, _, signature = tokens.encode({"role": "anon"}, SECRET).split(".")
    forged_claims = base64.urlsafe_b64encode(b'{"role":"service_role"}').rstrip(b"=").decode()
    with pytest.raises(tokens.TokenError):
        tokens.decode(f"{header}.{forged_claims}.{signature}", STACK)


def test_an_unsigned_token_is_rejected() -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    claims = base64.urlsafe_b64encode(b'{"role":"service_role"}').rstrip(b"=").decode()
    with pytest.raises(tokens.TokenError):
        tokens.decode(f"{header}.{claims}.", STACK)


def test_a_token_past_its_expiry_is_rejected_as_expired() -> None:
    token = tokens.sign_access_token({"exp": 1_000}, STACK)
    with pytest.raises(tokens.TokenError) as raised:
        tokens.decode(token, STACK, now=1_000)
    assert raised.value.expired
    assert raised.value.message == "JWT expired"


def test_garbage_is_rejected() -> None:
    with pytest.raises(tokens.TokenError):
        tokens.decode("not-a-token", STACK)


def test_a_token_for_another_audience_is_rejected() -> None:
    token = tokens.encode({"sub": "u1", "role": "authenticated", "aud": "another-app"}, SECRET)
    with pytest.raises(tokens.TokenError) as raised:
        tokens.decode(token, STACK)
    assert raised.value.message == "JWT not in audience"


def test_a_token_naming_the_audience_among_others_or_none_at_all_is_accepted() -> None:
    listed = tokens.encode({"sub": "u1", "aud": ["other", tokens.AUDIENCE]}, SECRET)
    unnamed = tokens.encode({"role": "anon"}, SECRET)
    assert tokens.decode(listed, STACK)["sub"] == "u1"
    assert tokens.decode(unnamed, STACK) == {"role": "anon"}
