"""Access-token abuse and malformed bodies: always a 4xx with a code, never a change."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from directorstudio.server.auth import TokenVerifier
from directorstudio.server.render.files import FileServer
from tests.support.functions import (
    OTHER_PROJECT_SECRET,
    Harness,
    create_user,
    harness,
    user_token,
)
from tests.support.gateway import running_gateway


@pytest.fixture
def h(database_url: str, tmp_path: Path) -> Iterator[Harness]:
    with harness(database_url, tmp_path / "renders") as value:
        yield value


@pytest.fixture
def user(admin_conn: psycopg.Connection[Any]) -> uuid.UUID:
    return create_user(admin_conn)


def _body(user: uuid.UUID) -> dict[str, Any]:
    return {"job_id": str(uuid.uuid4()), "prompt": "A quiet harbour", "user_key": str(user)}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _assert_rejected(h: Harness, token: str, user: uuid.UUID) -> None:
    response = h.enqueue_clip(token, _body(user))
    assert response.status_code == 401
    assert response.get_json()["code"] == "not_authenticated"
    assert h.query("SELECT count(*) FROM public.clip_jobs") == [(0,)]
    assert h.balance(user) == (0, False)


def test_an_expired_token_is_rejected(h: Harness, user: uuid.UUID) -> None:
    _assert_rejected(h, user_token(user, expires_in=-10), user)


def test_a_token_for_another_audience_is_rejected(h: Harness, user: uuid.UUID) -> None:
    _assert_rejected(h, user_token(user, audience="some-other-api"), user)


def test_a_token_with_a_forged_signature_is_rejected(h: Harness, user: uuid.UUID) -> None:
    header, payload, _ = user_token(user).split(".")
    forged = user_token(user, secret="forged-secret-forged-secret-forged!").split(".")[2]
    _assert_rejected(h, f"{header}.{payload}.{forged}", user)


def test_a_token_with_alg_none_is_rejected(h: Harness, user: uuid.UUID) -> None:
    claims = jwt.decode(user_token(user), options={"verify_signature": False})
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    _assert_rejected(h, token, user)


def test_a_token_signed_with_another_projects_secret_is_rejected(
    h: Harness, user: uuid.UUID
) -> None:
    _assert_rejected(h, user_token(user, secret=OTHER_PROJECT_SECRET), user)


def test_a_token_of_another_role_is_rejected(h: Harness, user: uuid.UUID) -> None:
    _assert_rejected(h, user_token(user, role="service_role"), user)


def test_an_asymmetric_token_without_configured_keys_is_rejected(
    h: Harness, user: uuid.UUID
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _assert_rejected(h, user_token(user, algorithm="RS256", key=key), user)


def test_a_malformed_token_is_rejected(h: Harness, user: uuid.UUID) -> None:
    _assert_rejected(h, "not.a.jwt", user)


def test_a_non_bearer_authorization_is_rejected(h: Harness, user: uuid.UUID) -> None:
    response = h.enqueue.post("/", json=_body(user), headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


def _jwks_verifier(tmp_path: Path, *keys: tuple[str, Any, str]) -> tuple[TokenVerifier, FileServer]:
    """A verifier reading a JWKS document served over HTTP: (kid, public key, alg) entries."""
    entries = []
    for kid, public, algorithm in keys:
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(public))
        entries.append({**jwk, "kid": kid, "alg": algorithm, "use": "sig"})
    (tmp_path / "jwks").mkdir()
    (tmp_path / "jwks" / "jwks.json").write_text(json.dumps({"keys": entries}))
    server = FileServer(tmp_path / "jwks").start()
    verifier = TokenVerifier.from_jwks_url(
        secret=None, jwks_url=server.url_for("jwks.json"), audience="authenticated", issuer=None
    )
    return verifier, server


def test_rs256_and_es256_tokens_verify_against_the_projects_jwks(tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    verifier, server = _jwks_verifier(
        tmp_path, ("r1", rsa_key.public_key(), "RS256"), ("e1", ec_key.public_key(), "ES256")
    )
    user = uuid.uuid4()
    try:
        rs = user_token(user, algorithm="RS256", key=rsa_key, headers={"kid": "r1"})
        es = user_token(user, algorithm="ES256", key=ec_key, headers={"kid": "e1"})
        assert verifier.verify_user(rs).user_id == str(user)
        assert verifier.verify_user(es).user_id == str(user)
    finally:
        server.close()


def test_a_token_signed_by_a_key_outside_the_jwks_is_rejected(tmp_path: Path) -> None:
    published = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier, server = _jwks_verifier(tmp_path, ("r1", published.public_key(), "RS256"))
    try:
        for token in (
            user_token(uuid.uuid4(), algorithm="RS256", key=stranger, headers={"kid": "r1"}),
            user_token(uuid.uuid4(), algorithm="RS256", key=stranger, headers={"kid": "zz"}),
        ):
            with pytest.raises(Exception, match="token") as raised:
                verifier.verify_user(token)
            assert getattr(raised.value, "code", None) == "not_authenticated"
    finally:
        server.close()


def test_enqueue_accepts_an_es256_token_from_the_projects_jwks_and_refuses_a_stranger(
    database_url: str, tmp_path: Path, admin_conn: psycopg.Connection[Any]
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    stranger = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "jwks.json").write_text(
        json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "ES256", "use": "sig"}]})
    )
    user = create_user(admin_conn)
    with (
        FileServer(tmp_path / "keys") as keys,
        harness(database_url, tmp_path / "renders", jwks_url=keys.url_for("jwks.json")) as h,
    ):
        forged = user_token(user, algorithm="ES256", key=stranger, headers={"kid": "k1"})
        assert h.enqueue_clip(forged, _body(user)).status_code == 401
        good = user_token(user, algorithm="ES256", key=key, headers={"kid": "k1"})
        response = h.enqueue_clip(good, _body(user))
        assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"prompt": "no id", "user_key": "k"}, 422),
        ({"job_id": "nope", "prompt": "p", "user_key": "k"}, 422),
        ({"job_id": str(uuid.UUID(int=7)), "prompt": 42, "user_key": "k"}, 422),
        ({"job_id": str(uuid.UUID(int=7)), "prompt": "", "user_key": "k"}, 422),
        ({"job_id": str(uuid.UUID(int=7)), "prompt": "p" * 2001, "user_key": "k"}, 422),
        ({"job_id": str(uuid.UUID(int=7)), "prompt": "p", "user_key": ["k"]}, 422),
        ({"job_id": str(uuid.UUID(int=7)), "prompt": "p", "user_key": "k", "admin": True}, 422),
        ({"job_id": str(uuid.UUID(int=7)), "prompt": "p", "user_key": "k", "project_id": 5}, 422),
    ],
)
def test_an_invalid_enqueue_body_is_rejected_with_a_code(
    h: Harness, user: uuid.UUID, body: dict[str, Any], status: int
) -> None:
    response = h.enqueue_clip(user_token(user), body)
    assert response.status_code == status
    answer = response.get_json()
    assert answer["code"] == "invalid_input"
    assert answer["message"]
    assert h.query("SELECT count(*) FROM public.clip_jobs") == [(0,)]


@pytest.mark.parametrize("raw", [b"{oops", b"[1, 2]", b"null", b'"text"', b""])
def test_a_body_that_is_not_a_json_object_is_400(h: Harness, user: uuid.UUID, raw: bytes) -> None:
    response = h.enqueue.post(
        "/",
        data=raw,
        headers={"Authorization": f"Bearer {user_token(user)}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_input"


def test_a_body_that_is_not_declared_json_is_415(h: Harness, user: uuid.UUID) -> None:
    response = h.enqueue.post(
        "/",
        data=json.dumps(_body(user)),
        headers={"Authorization": f"Bearer {user_token(user)}", "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert response.get_json()["code"] == "unsupported_media_type"


def test_an_oversized_enqueue_body_is_413_and_changes_nothing(h: Harness, user: uuid.UUID) -> None:
    body = {**_body(user), "prompt": "p" * 100_000}
    response = h.enqueue_clip(user_token(user), body)
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"
    assert h.query("SELECT count(*) FROM public.clip_jobs") == [(0,)]


def test_enqueue_accepts_a_stack_issued_es256_token_through_the_jwks_url_and_refuses_it_tampered(
    database_url: str, tmp_path: Path
) -> None:
    with running_gateway(database_url) as gateway:
        reply = httpx.post(
            f"{gateway.url}/auth/v1/signup", json={}, headers={"apikey": gateway.keys.anon_key}
        )
        session = reply.json()
        user = uuid.UUID(session["user"]["id"])
        jwks_url = f"{gateway.url}/auth/v1/.well-known/jwks.json"
        # No legacy secret: only the published ES256 key can verify the token.
        with harness(
            database_url,
            tmp_path / "renders",
            jwks_url=jwks_url,
            jwt_secret=None,
            jwt_issuer=f"{gateway.url}/auth/v1",
        ) as h:
            header, payload, signature = session["access_token"].split(".")
            claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
            tampered_payload = _b64({**claims, "sub": str(uuid.uuid4())})
            for tampered in (
                f"{header}.{tampered_payload}.{signature}",
                f"{header}.{payload}.{signature[:-6]}AAAAAA",
            ):
                _assert_rejected(h, tampered, user)
            accepted = h.enqueue_clip(session["access_token"], _body(user))
            assert accepted.status_code == 201, accepted.get_json()
            assert h.query("SELECT user_id FROM public.clip_jobs") == [(user,)]
