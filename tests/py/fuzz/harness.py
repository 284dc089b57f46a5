"""One fuzz case: send a request, check the answer is documented and a refused call wrote
nothing; run a strategy for one target and collect its failure instead of stopping there."""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.api_stack import ApiStack
from tests.support.catalog import changed_tables

Judge = Callable[[httpx.Response], str | None]


@dataclass
class CaseCounter:
    """Cases run in this session, by suite and by status class, for the summary line."""

    counts: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, suite: str, status: int) -> None:
        self.counts[suite] = self.counts.get(suite, 0) + 1
        kind = f"{status // 100}xx"
        self.statuses[kind] = self.statuses.get(kind, 0) + 1


COUNTER = CaseCounter()


def encode(value: Any) -> bytes:
    """JSON as a lenient client would write it (NaN and Infinity as bare tokens)."""
    try:
        return json.dumps(value, allow_nan=True).encode()
    except RecursionError:
        # json.dumps cannot write what it is asked to nest this deep: spell it out by hand.
        return _encode_deep(value).encode()


def _encode_deep(value: Any) -> str:
    opening: list[str] = []
    closing: list[str] = []
    while isinstance(value, dict | list):
        if isinstance(value, dict):
            key, value = next(iter(value.items()))
            opening.append("{" + json.dumps(key) + ":")
            closing.append("}")
        else:
            value = value[0]
            opening.append("[")
            closing.append("]")
    return "".join(opening) + json.dumps(value) + "".join(reversed(closing))


def preview(raw: bytes, limit: int = 1500) -> str:
    """A readable excerpt of a request body: long runs of one character or of one nesting
    step are shortened to a count."""
    text = raw.decode("utf-8", "backslashreplace")
    text = re.sub(
        r"(.{1,8}?)\1{15,}", lambda m: f"{m.group(1)}<x{len(m.group(0)) // len(m.group(1))}>", text
    )
    return text[:limit]


def input_classes(raw: bytes) -> list[str]:
    """The bad-input classes a request body belongs to (named in failure messages)."""
    classes = []
    if b"\\u0000" in raw or b"\x00" in raw:
        classes.append("NUL character")
    if raw.count(b"[") + raw.count(b"{") > 500:
        classes.append("deep nesting")
    if re.search(rb"\bNaN\b|Infinity", raw):
        classes.append("NaN/Infinity")
    if re.search(rb"(.)\1{1999}", raw) or len(raw) > 64 * 1024:
        classes.append("over-long string/array or oversize body")
    return classes


def checked_call(
    suite: str,
    stack: ApiStack,
    judge: Judge,
    send: Callable[[], httpx.Response],
    raw: bytes,
    describe: str,
) -> httpx.Response:
    """Send one request; fail on an undocumented answer or on a refused call that wrote.

    Nothing writes between two calls of a suite, so the digest taken after one call is the
    digest before the next: one digest per call."""
    before = stack.last_digest or stack.digest()
    stack.last_digest = None
    reply = send()
    COUNTER.add(suite, reply.status_code)
    after = stack.last_digest = stack.digest()
    problem = judge(reply)
    if problem is not None:
        classes = input_classes(raw)
        raise AssertionError(f"{describe}: {problem} {classes}: {reply.text[:300]}")
    if not 200 <= reply.status_code < 300:
        changed = changed_tables(before, after)
        if changed:
            raise AssertionError(
                f"{describe}: refused with {reply.status_code} but changed {changed}"
            )
    return reply


def run_cases(
    strategy: st.SearchStrategy[Any], case: Callable[[Any], None], examples: int
) -> str | None:
    """Run ``case`` over ``examples`` draws; the (shrunk) failure as text, or None."""
    seen: list[str] = []

    @settings(max_examples=examples)
    @given(strategy)
    def property_holds(value: Any) -> None:
        try:
            case(value)
        except AssertionError as error:
            seen.append(str(error))
            raise

    try:
        property_holds()
    except Exception as error:  # each target's failure is collected, then all are reported
        # The last failure seen is the shrunk one; hypothesis' own report of a huge or deeply
        # nested input can fail itself.
        return seen[-1] if seen else "".join(traceback.format_exception_only(error))[:2000]
    return None
