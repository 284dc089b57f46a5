"""Bodies of every bad-input class, built from a valid body by changing one field.

A class maps to one or more raw bodies; a test sends each and expects the same refusal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from directorstudio.server import limits

CLASSES = (
    "nul_character",
    "deep_nesting",
    "non_finite_number",
    "long_string",
    "long_array",
    "invalid_uuid",
    "invalid_date",
    "invalid_number",
    "wrong_type",
    "oversize_body",
)

DEEP = "[" * 100_000 + "]" * 100_000
NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e400")
_PLACEHOLDER = "\x1fraw\x1f"


@dataclass(frozen=True)
class Raw:
    """JSON text put into a body as it is (for what ``json.dumps`` cannot or will not write)."""

    text: str


def body_with(base: dict[str, Any], field: str, value: Any) -> bytes:
    """``base`` as JSON with ``field`` (dotted path, ``events.0.day``) set to ``value``."""
    document = json.loads(json.dumps(base))
    target: Any = document
    *parents, last = field.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    target[key] = _PLACEHOLDER if isinstance(value, Raw) else value
    text = json.dumps(document)
    if isinstance(value, Raw):
        text = text.replace(json.dumps(_PLACEHOLDER), value.text)
    return text.encode()


def raw_body(text: str) -> bytes:
    return text.encode()


def non_finite(base: dict[str, Any], field: str) -> list[bytes]:
    """``field`` as each of NaN, Infinity, -Infinity and an overflowing 1e400."""
    return [body_with(base, field, Raw(literal)) for literal in NON_FINITE]


def over_long_string() -> str:
    """A string beyond the generic limit of every JSON body."""
    return "x" * (limits.MAX_STRING_CHARS + 1)


def over_long_array() -> list[int]:
    """An array beyond the generic limit of every JSON body."""
    return [0] * (limits.MAX_ARRAY_ITEMS + 1)


def oversize(max_bytes: int) -> bytes:
    """A JSON object just over ``max_bytes``."""
    padding = max_bytes + 1 - len(b'{"pad":""}')
    return b'{"pad":"' + b"x" * padding + b'"}'
