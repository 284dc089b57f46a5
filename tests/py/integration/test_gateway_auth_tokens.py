"""Access tokens as new hosted projects issue them: ES256 with a ``kid`` published at
``/auth/v1/.well-known/jwks.json``, accepted by every verifier of the gateway, while the legacy
HS256 keys keep working and every algorithm-confusion trick is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from supabase_auth.errors import AuthApiError

from directorstudio.stack import tokens
from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    clock_fixture,
    gateway_fixture,
    sync_client,
)
from tests.support.gotrue import VERSIONED, error_code

JWKS_PATH = "/auth/v1/.well-known/jwks.json"


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    pad = "=="
    return json.loads(base64.urlsafe_b64decode(header + pad)), json.loads(
        base64.urlsafe_b64decode(payload + pad)
    )


def _signed_in(gateway: RunningGateway) -> tuple[Any, Any]:
    client = sync_client(gateway)
    client.auth.sign_up({"email": "ada@example.com", "password": "secret-123"})
    session = client.auth.get_session()
    assert session is not None
    return client, session


def test_the_jwks_is_public_and_lists_the_ec_key_that_signs_access_tokens(
    gateway: RunningGateway,
) -> None:
    reply = httpx.get(f"{gateway.url}{JWKS_PATH}")
    assert reply.status_code == 200
    (key,) = reply.json()["keys"]
    assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use", "key_ops"}
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert key["key_ops"] == ["verify"]
    _, session = _signed_in(gateway)
    header, claims = _segments(session.access_token)
    assert header == {"alg": "ES256", "kid": key["kid"], "typ": "JWT"}
    assert claims["session_id"]


def test_an_access_token_verifies_with_pyjwks_client_over_the_served_jwks(
    gateway: RunningGateway,
) -> None:
    _, session = _signed_in(gateway)
    signing_key = jwt.PyJWKClient(f"{gateway.url}{JWKS_PATH}").get_signing_key_from_jwt(
        session.access_token
    )
    claims = jwt.decode(
        session.access_token,
        signing_key.key,
        algorithms=["ES256"],
        audience="authenticated",
        issuer=f"{gateway.url}/auth/v1",
    )
    assert claims["sub"] == session.user.id


def test_supabase_py_signs_in_refreshes_reads_updates_and_signs_out_with_es256_tokens(
    gateway: RunningGateway,
) -> None:
    sync_client(gateway).auth.sign_up({"email": "ada@example.com", "password": "secret-123"})
    client = sync_client(gateway)
    signed_in = client.auth.sign_in_with_password(
        {"email": "ada@example.com", "password": "secret-123"}
    )
    assert signed_in.session is not None
    refreshed = client.auth.refresh_session().session
    assert refreshed is not None
    assert _segments(refreshed.access_token)[0]["alg"] == "ES256"
    assert refreshed.refresh_token != signed_in.session.refresh_token
    fetched = client.auth.get_user()
    assert fetched is not None
    assert fetched.user.email == "ada@example.com"
    updated = client.auth.update_user({"data": {"name": "Ada"}})
    assert updated.user.user_metadata == {"name": "Ada"}
    rpc = client.rpc("import_sample_project", {"p_project_id": str(uuid.uuid4())}).execute()
    assert rpc.data["title"]
    client.auth.sign_out()
    with pytest.raises(AuthApiError) as raised:
        sync_client(gateway).auth.get_user(refreshed.access_token)
    assert raised.value.code == "session_not_found"


def test_a_legacy_hs256_user_token_signed_with_the_jwt_secret_still_works(
    gateway: RunningGateway,
) -> None:
    _, session = _signed_in(gateway)
    claims = _segments(session.access_token)[1]
    legacy = tokens.encode(claims, gateway.keys.jwt_secret)
    fetched = sync_client(gateway).auth.get_user(legacy)
    assert fetched is not None
    assert fetched.user.id == session.user.id


def _confused_tokens(gateway: RunningGateway, claims: dict[str, Any]) -> dict[str, str]:
    """Tokens that try to pass without the stack's private key."""
    (published,) = httpx.get(f"{gateway.url}{JWKS_PATH}").json()["keys"]
    public_pem = jwt.PyJWK(published).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload = _b64(json.dumps(claims).encode())
    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": published["kid"]}).encode())
    hs_signature = hmac.new(public_pem, f"{hs_header}.{payload}".encode(), hashlib.sha256)
    none_header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    stranger = ec.generate_private_key(ec.SECP256R1())
    return {
        "hs256 keyed with the public key": f"{hs_header}.{payload}.{_b64(hs_signature.digest())}",
        "alg none": f"{none_header}.{payload}.",
        "unknown kid": jwt.encode(claims, stranger, "ES256", headers={"kid": str(uuid.uuid4())}),
        "stranger under the published kid": jwt.encode(
            claims, stranger, "ES256", headers={"kid": published["kid"]}
        ),
    }


def test_algorithm_confusion_is_refused_by_auth_in_gotrues_json(gateway: RunningGateway) -> None:
    _, session = _signed_in(gateway)
    claims = _segments(session.access_token)[1]
    for name, token in _confused_tokens(gateway, claims).items():
        for versioned in (True, False):
            headers = {"apikey": gateway.keys.anon_key, "Authorization": f"Bearer {token}"}
            reply = httpx.get(
                f"{gateway.url}/auth/v1/user", headers=headers | (VERSIONED if versioned else {})
            )
            assert reply.status_code == 403, name
            assert error_code(reply) == "bad_jwt", name


def test_algorithm_confusion_is_refused_by_rest_as_401_pgrst301(gateway: RunningGateway) -> None:
    _, session = _signed_in(gateway)
    claims = _segments(session.access_token)[1]
    for name, token in _confused_tokens(gateway, claims).items():
        reply = httpx.post(
            f"{gateway.url}/rest/v1/rpc/import_sample_project",
            json={"p_project_id": str(uuid.uuid4())},
            headers={"apikey": gateway.keys.anon_key, "Authorization": f"Bearer {token}"},
        )
        assert reply.status_code == 401, name
        assert reply.json()["code"] == "PGRST301", name
        assert set(reply.json()) == {"code", "details", "hint", "message"}


def test_the_api_keys_stay_hs256_jwts_of_the_jwt_secret(gateway: RunningGateway) -> None:
    keys = gateway.keys
    for key, role in ((keys.anon_key, "anon"), (keys.service_role_key, "service_role")):
        header, _ = _segments(key)
        assert header["alg"] == "HS256"
        assert jwt.decode(key, gateway.keys.jwt_secret, algorithms=["HS256"])["role"] == role
