"""The one token verification (functions and gateway alike): ES256 through the published keys,
HS256 with the legacy secret, and every algorithm-confusion trick refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.server.auth import TokenError, TokenVerifier, verify_token
from directorstudio.server.config import Settings
from directorstudio.server.jwks import ChainedKeySource, StaticKeySource, public_jwk
from directorstudio.stack import keys

SECRET = "unit-test-jwt-secret-with-32-bytes-or-more"
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(private: Any, kid: str, **extra: Any) -> dict[str, Any]:
    if isinstance(private, ec.EllipticCurvePrivateKey):
        exported = jwt.algorithms.ECAlgorithm.to_jwk(private.public_key())
    else:
        exported = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key())
    public: dict[str, Any] = json.loads(exported)
    return {**public, "kid": kid, **extra}


JWKS = {"keys": [_jwk(EC_KEY, "ec-1", alg="ES256"), _jwk(RSA_KEY, "rsa-1", alg="RS256")]}
SOURCE = StaticKeySource(JWKS)


def _claims(**overrides: Any) -> dict[str, Any]:
    claims = {
        "sub": str(uuid.UUID(int=9)),
        "aud": "authenticated",
        "role": "authenticated",
        "exp": int(time.time()) + 60,
    }
    claims.update(overrides)
    return claims


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def _verify(token: str, **kwargs: Any) -> dict[str, Any]:
    return verify_token(token, **{"secret": SECRET, "keys": SOURCE, **kwargs})


def test_an_es256_token_with_a_published_kid_verifies() -> None:
    token = jwt.encode(_claims(), EC_KEY, "ES256", headers={"kid": "ec-1"})
    assert _verify(token)["sub"] == str(uuid.UUID(int=9))


def test_an_rs256_token_with_a_published_kid_verifies() -> None:
    token = jwt.encode(_claims(), RSA_KEY, "RS256", headers={"kid": "rsa-1"})
    assert _verify(token)["role"] == "authenticated"


def test_an_hs256_token_with_the_legacy_secret_still_verifies() -> None:
    assert _verify(jwt.encode(_claims(), SECRET, "HS256"))["aud"] == "authenticated"


def test_an_hs256_token_keyed_with_the_public_key_bytes_is_refused() -> None:
    pem = EC_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "ec-1"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}.{_b64(signature)}"
    with pytest.raises(TokenError) as with_secret:
        _verify(token)
    assert with_secret.value.reason == "signature"
    with pytest.raises(TokenError) as without_secret:
        _verify(token, secret=None)
    assert without_secret.value.reason == "algorithm"


@pytest.mark.parametrize("algorithm", ["none", "None", "HS512", "ES384", "PS256", "EdDSA", ""])
def test_an_algorithm_outside_the_allow_list_is_refused(algorithm: str) -> None:
    header = _b64(json.dumps({"alg": algorithm, "kid": "ec-1"}).encode())
    token = f"{header}.{_b64(json.dumps(_claims()).encode())}."
    with pytest.raises(TokenError) as raised:
        _verify(token)
    assert raised.value.reason == "algorithm"


def test_an_unknown_or_missing_kid_is_refused() -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    for headers in ({"kid": "nobody"}, {}):
        token = jwt.encode(_claims(), stranger, "ES256", headers=headers)
        with pytest.raises(TokenError) as raised:
            _verify(token)
        assert raised.value.reason == "unknown_key"


def test_a_stranger_signing_under_a_published_kid_is_refused() -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(_claims(), stranger, "ES256", headers={"kid": "ec-1"})
    with pytest.raises(TokenError) as raised:
        _verify(token)
    assert raised.value.reason == "signature"


def test_a_kid_naming_a_key_of_another_type_is_refused() -> None:
    token = jwt.encode(_claims(), RSA_KEY, "RS256", headers={"kid": "ec-1"})
    with pytest.raises(TokenError) as raised:
        _verify(token)
    assert raised.value.reason == "algorithm"


def test_a_tampered_payload_is_refused() -> None:
    header, _, signature = jwt.encode(_claims(), EC_KEY, "ES256", headers={"kid": "ec-1"}).split(
        "."
    )
    forged = _b64(json.dumps(_claims(role="service_role")).encode())
    with pytest.raises(TokenError) as raised:
        _verify(f"{header}.{forged}.{signature}")
    assert raised.value.reason == "signature"


def test_asymmetric_tokens_are_refused_without_configured_keys() -> None:
    token = jwt.encode(_claims(), EC_KEY, "ES256", headers={"kid": "ec-1"})
    with pytest.raises(TokenError) as raised:
        _verify(token, keys=None)
    assert raised.value.reason == "algorithm"


def test_expiry_is_judged_by_the_injected_clock() -> None:
    token = jwt.encode(_claims(exp=1_000), EC_KEY, "ES256", headers={"kid": "ec-1"})
    assert _verify(token, now=999)["exp"] == 1_000
    with pytest.raises(TokenError) as raised:
        _verify(token, now=1_000)
    assert raised.value.expired


@pytest.mark.parametrize(
    "entry",
    [
        {"kty": "oct", "k": _b64(SECRET.encode()), "kid": "hmac", "alg": "HS256"},
        {**_jwk(EC_KEY, "wrong-alg"), "alg": "RS256"},
        {**_jwk(EC_KEY, "for-encryption"), "use": "enc"},
        {**_jwk(EC_KEY, "sign-only"), "key_ops": ["sign"]},
        {k: v for k, v in _jwk(EC_KEY, "x").items() if k != "kid"},
    ],
)
def test_a_jwks_entry_that_is_no_public_verification_key_is_ignored(entry: dict[str, Any]) -> None:
    assert public_jwk(entry) is None
    assert StaticKeySource({"keys": [entry]}).key_ids == []


def test_a_private_jwk_contributes_only_its_public_half() -> None:
    private: dict[str, Any] = {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY)), "kid": "k"}
    public = public_jwk(private)
    assert public is not None
    assert "d" not in public
    assert public["key_ops"] == ["verify"]


def test_chained_sources_try_each_in_turn() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    chained = ChainedKeySource([SOURCE, StaticKeySource({"keys": [_jwk(other, "ec-2")]})])
    token = jwt.encode(_claims(), other, "ES256", headers={"kid": "ec-2"})
    assert verify_token(token, secret=None, keys=chained)["sub"]
    with pytest.raises(TokenError):
        verify_token(
            jwt.encode(_claims(), other, "ES256", headers={"kid": "x"}), secret=None, keys=chained
        )


def test_the_functions_verify_user_tokens_with_an_inline_jwks_from_the_environment() -> None:
    stack_keys = keys.generate()
    settings = Settings.from_env(
        {"SUPABASE_JWKS": json.dumps(stack_keys.jwks), "SUPABASE_JWT_SECRET": SECRET}
    )
    verifier = TokenVerifier.from_jwks_url(
        secret=settings.jwt_secret,
        jwks_url=settings.jwks_url,
        jwks_json=settings.jwks,
        audience=settings.jwt_audience,
        issuer=None,
    )
    assert verifier.verify_user(stack_keys.sign(_claims())).user_id == str(uuid.UUID(int=9))
    tampered = stack_keys.sign(_claims())[:-4] + "AAAA"
    with pytest.raises(DirectorStudioError) as raised:
        verifier.verify_user(tampered)
    assert raised.value.code == "not_authenticated"


def test_an_inline_jwks_that_is_not_one_is_a_configuration_error() -> None:
    with pytest.raises(DirectorStudioError) as raised:
        TokenVerifier.from_jwks_url(
            secret=None, jwks_url=None, jwks_json="[]", audience="authenticated", issuer=None
        )
    assert "SUPABASE_JWKS" in raised.value.message
