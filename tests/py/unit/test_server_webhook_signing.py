"""Standard Webhooks signatures: webhook-id, webhook-timestamp, webhook-signature v1 entries."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.server import webhook_signing

KEY = b"a-32-byte-key-for-the-unit-tests"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"the-previous-key-being-rotated!!").decode()
NOW = 1_800_000_000.0
BODY = b'{"a":1}'


def _clock(at: float = NOW) -> webhook_signing.Clock:
    return lambda: at


def _signed(secret: str = SECRET, body: bytes = BODY, at: float = NOW) -> dict[str, str]:
    return webhook_signing.sign(secret, "msg_1", body, clock=_clock(at))


def test_the_signature_is_the_base64_hmac_of_id_dot_timestamp_dot_body() -> None:
    headers = _signed()
    expected = hmac.new(KEY, b'msg_1.1800000000.{"a":1}', hashlib.sha256).digest()
    assert headers == {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1800000000",
        "webhook-signature": "v1," + base64.b64encode(expected).decode(),
    }


def test_the_standardwebhooks_package_verifies_what_we_sign() -> None:
    import time

    headers = webhook_signing.sign(SECRET, "msg_2", BODY)
    assert Webhook(SECRET).verify(BODY, headers) == {"a": 1}
    assert webhook_signing.verify(SECRET, BODY, headers, clock=time.time) == "msg_2"
    with pytest.raises(WebhookVerificationError):
        Webhook(OLD_SECRET).verify(BODY, headers)


def test_a_fresh_signature_verifies_and_names_its_message_id() -> None:
    assert webhook_signing.verify(SECRET, BODY, _signed(), clock=_clock(NOW + 10)) == "msg_1"


def test_header_names_are_matched_in_any_case() -> None:
    headers = {key.title(): value for key, value in _signed().items()}
    assert webhook_signing.verify(SECRET, BODY, headers, clock=_clock()) == "msg_1"


@pytest.mark.parametrize("offset", [300, -300])
def test_a_signature_at_the_edge_of_the_tolerance_verifies(offset: int) -> None:
    webhook_signing.verify(SECRET, BODY, _signed(), clock=_clock(NOW + offset))


@pytest.mark.parametrize("offset", [301, -301])
def test_a_signature_beyond_the_tolerance_is_rejected(offset: int) -> None:
    with pytest.raises(DirectorStudioError, match="tolerance") as raised:
        webhook_signing.verify(SECRET, BODY, _signed(), clock=_clock(NOW + offset))
    assert raised.value.code == "not_authenticated"


def test_another_body_secret_or_message_id_is_rejected() -> None:
    headers = _signed()
    with pytest.raises(DirectorStudioError, match="invalid"):
        webhook_signing.verify(SECRET, b'{"a":2}', headers, clock=_clock())
    with pytest.raises(DirectorStudioError, match="invalid"):
        webhook_signing.verify(OLD_SECRET, BODY, headers, clock=_clock())
    with pytest.raises(DirectorStudioError, match="invalid"):
        webhook_signing.verify(SECRET, BODY, {**headers, "webhook-id": "msg_other"}, clock=_clock())


def test_a_retimed_signature_is_rejected() -> None:
    retimed = {**_signed(), "webhook-timestamp": "1800000100"}
    with pytest.raises(DirectorStudioError, match="invalid"):
        webhook_signing.verify(SECRET, BODY, retimed, clock=_clock())


def test_any_matching_v1_entry_verifies_so_a_sender_can_sign_with_old_and_new_secrets() -> None:
    both = webhook_signing.sign(f"{SECRET} {OLD_SECRET}", "msg_1", BODY, clock=_clock())
    assert len(both["webhook-signature"].split(" ")) == 2
    assert webhook_signing.verify(SECRET, BODY, both, clock=_clock()) == "msg_1"
    assert webhook_signing.verify(OLD_SECRET, BODY, both, clock=_clock()) == "msg_1"


def test_a_receiver_configured_with_several_secrets_accepts_each_during_rotation() -> None:
    configured = f"{SECRET},{OLD_SECRET}"
    for secret in (SECRET, OLD_SECRET):
        assert webhook_signing.verify(configured, BODY, _signed(secret), clock=_clock()) == "msg_1"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"webhook-id": "msg_1", "webhook-timestamp": "1800000000"},
        {"webhook-timestamp": "1800000000", "webhook-signature": "v1,AAAA"},
        {"webhook-id": "msg_1", "webhook-timestamp": "soon", "webhook-signature": "v1,AAAA"},
        {"webhook-id": "msg_1", "webhook-timestamp": "1800000000", "webhook-signature": "v1"},
        {"webhook-id": "msg_1", "webhook-timestamp": "1800000000", "webhook-signature": "v1,%%"},
        {"webhook-id": "msg_1", "webhook-timestamp": "1800000000", "webhook-signature": "v2,AA"},
    ],
)
def test_missing_or_malformed_headers_are_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(DirectorStudioError) as raised:
        webhook_signing.verify(SECRET, BODY, headers, clock=_clock())
    assert raised.value.http_status == 401


@pytest.mark.parametrize("setting", ["", "plain-secret", "whsec_", "whsec_%%%"])
def test_a_secret_that_is_not_whsec_base64_is_a_configuration_error(setting: str) -> None:
    with pytest.raises(DirectorStudioError) as raised:
        webhook_signing.parse_secrets(setting)
    assert raised.value.code == "internal"
