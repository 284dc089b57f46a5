"""Standard Webhooks signatures of render callbacks and of render requests.

Every signed POST carries three headers (https://www.standardwebhooks.com):

- ``webhook-id``: the message id, the same on every delivery of one message (the idempotency
  key of a render event);
- ``webhook-timestamp``: integer unix seconds;
- ``webhook-signature``: space-separated ``v1,<base64>`` entries, each the HMAC-SHA256 of
  ``f"{id}.{timestamp}.{body}"`` keyed with the base64-decoded part of a ``whsec_`` secret.

A secret setting holds one or more ``whsec_`` secrets (space- or comma-separated): a sender
signs with every one of them, a receiver accepts a signature made with any one, so a secret is
rotated by configuring the new one beside the old one on both sides, then dropping the old.
A receiver refuses timestamps more than ``TOLERANCE_SECONDS`` away from its clock.

The signatures are computed by the ``standardwebhooks`` package. Verification parses the
headers here because the package's ``verify`` reads the wall clock (tests inject one) and
raises ``ValueError`` on a malformed signature entry.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hmac
import time
from collections.abc import Callable, Mapping

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
TOLERANCE_SECONDS = 300

Clock = Callable[[], float]


def _config_error(message: str) -> DirectorStudioError:
    return DirectorStudioError(message, code=ErrorCode.INTERNAL)


def parse_secrets(setting: str) -> list[Webhook]:
    """The signers of a secret setting: ``whsec_<base64>`` entries, space- or comma-separated."""
    entries = setting.replace(",", " ").split()
    if not entries:
        raise _config_error("no webhook secret configured")
    hooks: list[Webhook] = []
    for entry in entries:
        if not entry.startswith(SECRET_PREFIX):
            raise _config_error(f"webhook secrets start with {SECRET_PREFIX}")
        try:
            hooks.append(Webhook(entry))
        except (binascii.Error, EmptyWebhookSecretError, ValueError):
            raise _config_error("a webhook secret is not valid base64") from None
    return hooks


def _moment(timestamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def sign(secrets: str, message_id: str, body: bytes, *, clock: Clock = time.time) -> dict[str, str]:
    """The three Standard Webhooks headers of ``body`` sent now as message ``message_id``."""
    timestamp = int(clock())
    text = body.decode()
    signatures = [
        hook.sign(message_id, _moment(timestamp), text) for hook in parse_secrets(secrets)
    ]
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signatures),
    }


def _rejected(message: str) -> DirectorStudioError:
    return DirectorStudioError(message, code=ErrorCode.NOT_AUTHENTICATED)


def verify(
    secrets: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    clock: Clock = time.time,
    tolerance: int = TOLERANCE_SECONDS,
) -> str:
    """The message id when ``headers`` sign ``body`` with one of ``secrets`` within the
    tolerance, else ``not_authenticated`` (``invalid_input`` for a body that is not UTF-8)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    message_id = lowered.get(ID_HEADER, "")
    raw_timestamp = lowered.get(TIMESTAMP_HEADER, "")
    signature_header = lowered.get(SIGNATURE_HEADER, "")
    if not (message_id and raw_timestamp and signature_header):
        raise _rejected("missing webhook-id, webhook-timestamp or webhook-signature")
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit():
        raise _rejected("malformed webhook-timestamp")
    timestamp = int(raw_timestamp)
    if abs(clock() - timestamp) > tolerance:
        raise _rejected("webhook timestamp outside the tolerance")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise DirectorStudioError(
            "the body is not valid UTF-8 JSON", code=ErrorCode.INVALID_INPUT
        ) from None
    offered = [entry.encode() for entry in signature_header.split(" ") if entry.startswith("v1,")]
    matched = False
    for hook in parse_secrets(secrets):
        expected = hook.sign(message_id, _moment(timestamp), text).encode()
        for candidate in offered:
            matched |= hmac.compare_digest(candidate, expected)
    if not matched:
        raise _rejected("invalid webhook signature")
    return message_id
