"""Webhook signatures: HMAC-SHA256 of ``timestamp.body``, five minutes of tolerance."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.server import webhook_signing

SECRET = "whsec-test"
NOW = 1_800_000_000.0


def _clock(at: float = NOW) -> webhook_signing.Clock:
    return lambda: at


def test_the_signature_is_the_hmac_of_timestamp_dot_body() -> None:
    header = webhook_signing.sign(SECRET, b'{"a":1}', clock=_clock())
    expected = hmac.new(SECRET.encode(), b'1800000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={expected}"


def test_a_fresh_signature_verifies() -> None:
    header = webhook_signing.sign(SECRET, b"body", clock=_clock())
    assert webhook_signing.verify(SECRET, b"body", header, clock=_clock(NOW + 10)) == int(NOW)


@pytest.mark.parametrize("offset", [300, -300])
def test_a_signature_at_the_edge_of_the_tolerance_verifies(offset: int) -> None:
    header = webhook_signing.sign(SECRET, b"body", clock=_clock())
    webhook_signing.verify(SECRET, b"body", header, clock=_clock(NOW + offset))


@pytest.mark.parametrize("offset", [301, -301])
def test_a_signature_beyond_the_tolerance_is_rejected(offset: int) -> None:
    header = webhook_signing.sign(SECRET, b"body", clock=_clock())
    with pytest.raises(DirectorStudioError, match="tolerance") as raised:
        webhook_signing.verify(SECRET, b"body", header, clock=_clock(NOW + offset))
    assert raised.value.code == "not_authenticated"


def test_another_body_or_secret_is_rejected() -> None:
    header = webhook_signing.sign(SECRET, b"body", clock=_clock())
    with pytest.raises(DirectorStudioError, match="invalid"):
        webhook_signing.verify(SECRET, b"body!", header, clock=_clock())
    with pytest.raises(DirectorStudioError, match="invalid"):
        webhook_signing.verify("other", b"body", header, clock=_clock())


def test_a_retimed_signature_is_rejected() -> None:
    header = webhook_signing.sign(SECRET, b"body", clock=_clock())
    retimed = header.replace("t=1800000000", "t=1800000100")
    with pytest.raises(DirectorStudioError, match="invalid"):
        webhook_signing.verify(SECRET, b"body", retimed, clock=_clock())


def test_any_matching_v1_entry_verifies_so_secrets_can_rotate() -> None:
    old = webhook_signing.sign("old-secret", b"body", clock=_clock())
    new = webhook_signing.sign(SECRET, b"body", clock=_clock())
    header = f"{old},v1={new.split('v1=')[1]}"
    webhook_signing.verify(SECRET, b"body", header, clock=_clock())


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=abc,v1=abc", "t=1800000000", "garbage"])
def test_a_missing_or_malformed_header_is_rejected(header: str | None) -> None:
    with pytest.raises(DirectorStudioError) as raised:
        webhook_signing.verify(SECRET, b"body", header, clock=_clock())
    assert raised.value.http_status == 401
