"""HS256 tokens as GoTrue issues them and PostgREST verifies them."""

from __future__ import annotations

import base64
import json

import pytest

from directorstudio.stack import tokens


def test_a_token_decodes_to_the_claims_it_was_signed_with() -> None:
    token = tokens.encode({"sub": "u1", "role": "authenticated", "exp": 2_000}, "secret")
    assert tokens.decode(token, "secret", now=1_000) == {
        "sub": "u1",
        "role": "authenticated",
        "exp": 2_000,
    }


def test_the_header_names_hs256() -> None:
    header = tokens.encode({}, "secret").split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}


def test_a_token_signed_with_another_secret_is_rejected() -> None:
    token = tokens.encode({"sub": "u1"}, "other")
    with pytest.raises(tokens.TokenError) as raised:
        tokens.decode(token, "secret")
    assert not raised.value.expired


def test_a_token_with_altered_claims_is_rejected() -> None:
    header, _, signature = tokens.encode({"role": "anon"}, "secret").split(".")
    forged_claims = base64.urlsafe_b64encode(b'{"role":"service_role"}').rstrip(b"=").decode()
    with pytest.raises(tokens.TokenError):
        tokens.decode(f"{header}.{forged_claims}.{signature}", "secret")


def test_an_unsigned_token_is_rejected() -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    claims = base64.urlsafe_b64encode(b'{"role":"service_role"}').rstrip(b"=").decode()
    with pytest.raises(tokens.TokenError):
        tokens.decode(f"{header}.{claims}.", "secret")


def test_a_token_past_its_expiry_is_rejected_as_expired() -> None:
    token = tokens.encode({"exp": 1_000}, "secret")
    with pytest.raises(tokens.TokenError) as raised:
        tokens.decode(token, "secret", now=1_000)
    assert raised.value.expired
    assert raised.value.message == "JWT expired"


def test_garbage_is_rejected() -> None:
    with pytest.raises(tokens.TokenError):
        tokens.decode("not-a-token", "secret")


def test_a_token_for_another_audience_is_rejected() -> None:
    token = tokens.encode({"sub": "u1", "role": "authenticated", "aud": "another-app"}, "secret")
    with pytest.raises(tokens.TokenError) as raised:
        tokens.decode(token, "secret")
    assert raised.value.message == "JWT not in audience"


def test_a_token_naming_the_audience_among_others_or_none_at_all_is_accepted() -> None:
    listed = tokens.encode({"sub": "u1", "aud": ["other", tokens.AUDIENCE]}, "secret")
    unnamed = tokens.encode({"role": "anon"}, "secret")
    assert tokens.decode(listed, "secret")["sub"] == "u1"
    assert tokens.decode(unnamed, "secret") == {"role": "anon"}
