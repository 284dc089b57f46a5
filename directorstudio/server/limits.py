"""Input limits and the checks of a raw JSON body, shared by the functions and the gateway.

``load_json`` turns request bytes into a JSON value or raises a documented error, before any of
it reaches a model or the database:

- more than ``max_bytes``: ``payload_too_large`` (413);
- not UTF-8 JSON, or nested deeper than ``MAX_DEPTH`` (found by a scan of the raw bytes before
  parsing, so no parser ever recurses that deep): ``invalid_input`` (400);
- ``NaN``, ``Infinity``, ``-Infinity`` or a number beyond a double (``1e400``): ``invalid_input``;
- a NUL character or an unpaired surrogate (``\\ud800``) in any string or key, neither of which
  PostgreSQL text can hold: ``invalid_input``;
- a string longer than ``MAX_STRING_CHARS`` or an array longer than ``MAX_ARRAY_ITEMS``:
  ``invalid_input``.

The error's ``detail`` is ``{"reason": ..., "limit"?: ..., "at"?: <JSON path>}``; the reasons
are the keys of ``REASONS``. Endpoints add their own, tighter limits (the pydantic models).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.json_exact import parse_with_orjson

MAX_DEPTH = 64
MAX_STRING_CHARS = 512 * 1024
MAX_ARRAY_ITEMS = 10_000
MAX_BODY_BYTES = 1024 * 1024

REASONS = {
    "not_json": "the body is not valid UTF-8 JSON",
    "too_deep": f"the body is nested deeper than {MAX_DEPTH} levels",
    "not_finite": "numbers must be finite (no NaN, Infinity or overflowing values)",
    "nul_character": "strings cannot contain NUL characters",
    "lone_surrogate": "strings cannot contain unpaired surrogates",
    "string_too_long": f"strings cannot exceed {MAX_STRING_CHARS} characters",
    "array_too_long": f"arrays cannot exceed {MAX_ARRAY_ITEMS} items",
}

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def invalid(reason: str, **detail: Any) -> DirectorStudioError:
    """The ``invalid_input`` error of one of ``REASONS``."""
    return DirectorStudioError(
        REASONS[reason], code=ErrorCode.INVALID_INPUT, detail={"reason": reason, **detail}
    )


def too_large(max_bytes: int) -> DirectorStudioError:
    """The ``payload_too_large`` error of a body over ``max_bytes``."""
    return DirectorStudioError(
        f"the body exceeds {max_bytes} bytes",
        code=ErrorCode.PAYLOAD_TOO_LARGE,
        detail={"reason": "too_large", "limit": max_bytes},
    )


def check_size(size: int | None, max_bytes: int) -> None:
    """``payload_too_large`` when a declared or read ``size`` exceeds ``max_bytes``."""
    if size is not None and size > max_bytes:
        raise too_large(max_bytes)


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of ``[``/``{`` outside strings, counting at most to ``limit + 1``."""
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for char in brackets:
        depth += 1 if char in b"[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise invalid("not_finite")
    return value


def _no_constants(_name: str) -> Any:
    raise invalid("not_finite")


def _check_string(text: str, at: str) -> None:
    if "\x00" in text:
        raise invalid("nul_character", at=at)
    if _LONE_SURROGATE.search(text):
        raise invalid("lone_surrogate", at=at)
    if len(text) > MAX_STRING_CHARS:
        raise invalid("string_too_long", limit=MAX_STRING_CHARS, at=at)


def check_value(value: Any) -> None:
    """Refuse NUL characters, unpaired surrogates, over-long strings and arrays in ``value``."""
    if not _fits(value, strings=True):
        _refuse_where(value)


def _fits(value: Any, *, strings: bool) -> bool:
    """Whether ``value`` is within the limits (its strings too when ``strings``): one walk
    without paths; the error with its path is found by a second walk only when it is not."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or len(item) > MAX_STRING_CHARS or _LONE_SURROGATE.search(item):
                return False
        elif isinstance(item, list):
            if len(item) > MAX_ARRAY_ITEMS:
                return False
            pending.extend(item if strings else [c for c in item if isinstance(c, list | dict)])
        elif isinstance(item, dict):
            if strings:
                pending.extend(item)
                pending.extend(item.values())
            else:
                pending.extend(c for c in item.values() if isinstance(c, list | dict))
    return True


def _refuse_where(value: Any) -> None:
    """Raise the error of the first value out of the limits, naming where it is."""
    pending: list[tuple[Any, str]] = [(value, "$")]
    while pending:
        item, at = pending.pop()
        if isinstance(item, str):
            _check_string(item, at)
        elif isinstance(item, list):
            if len(item) > MAX_ARRAY_ITEMS:
                raise invalid("array_too_long", limit=MAX_ARRAY_ITEMS, at=at)
            pending.extend((child, f"{at}[{index}]") for index, child in enumerate(item))
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_string(key, at)
                pending.append((child, f"{at}.{key}"))


def _parse(raw: bytes) -> tuple[Any, bool]:
    """``raw`` parsed as the standard library parses it, with orjson where that gives the same
    value (:func:`~directorstudio.contracts.json_exact.parse_with_orjson`). Says whether orjson
    read it."""
    value, parsed = parse_with_orjson(raw)
    if parsed:
        return value, True
    try:
        return json.loads(raw, parse_float=_finite_float, parse_constant=_no_constants), False
    except (ValueError, RecursionError):
        # ValueError covers undecodable bytes and integers beyond Python's digit limit.
        raise invalid("not_json") from None


def load_json(raw: bytes, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """``raw`` as a JSON value within every limit above, or the documented error."""
    return _load(raw, max_bytes)[0]


def load_json_text(raw: bytes, max_bytes: int = MAX_BODY_BYTES) -> tuple[Any, str | None]:
    """:func:`load_json`, and ``raw`` as text when it is plain UTF-8 JSON (no byte order mark,
    no other encoding): text PostgreSQL reads as the same value, to pass on undecoded."""
    value, strict = _load(raw, max_bytes)
    return value, raw.decode() if strict else None


def _load(raw: bytes, max_bytes: int) -> tuple[Any, bool]:
    """:func:`load_json`, and whether ``raw`` was read as strict UTF-8 JSON (by orjson)."""
    check_size(len(raw), max_bytes)
    if nesting_depth(raw) > MAX_DEPTH:
        raise invalid("too_deep", limit=MAX_DEPTH)
    value, strict = _parse(raw)
    # In what orjson read (strict UTF-8), a NUL or an unpaired surrogate can only come from a
    # \u escape, and no string is longer than the body: without either, strings need no look.
    strings = not strict or b"\\u" in raw or len(raw) > MAX_STRING_CHARS
    # An array of more items than allowed needs as many commas.
    arrays = raw.count(b",") >= MAX_ARRAY_ITEMS
    if (strings or arrays) and not _fits(value, strings=strings):
        _refuse_where(value)
    return value, strict
