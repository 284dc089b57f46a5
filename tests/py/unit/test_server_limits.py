"""The JSON input limits shared by the functions and the gateway."""

from __future__ import annotations

import json

import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.server import limits


def _reason(raw: bytes, max_bytes: int = limits.MAX_BODY_BYTES) -> str:
    with pytest.raises(DirectorStudioError) as raised:
        limits.load_json(raw, max_bytes)
    return str(raised.value.detail["reason"])


def test_nesting_at_the_limit_parses_and_one_level_more_is_too_deep() -> None:
    at_limit = b"[" * limits.MAX_DEPTH + b"]" * limits.MAX_DEPTH
    assert limits.nesting_depth(at_limit) == limits.MAX_DEPTH
    limits.load_json(at_limit)
    assert _reason(b"[" + at_limit + b"]") == "too_deep"


def test_brackets_inside_strings_and_escaped_quotes_do_not_count_as_nesting() -> None:
    raw = b'{"a": "[[[[\\"{{{{", "b": ["]]]"]}'
    assert limits.nesting_depth(raw) == 2
    assert limits.load_json(raw) == {"a": '[[[["{{{{', "b": ["]]]"]}


def test_a_million_levels_are_refused_without_parsing() -> None:
    assert _reason(b"{" * 1_000_000) == "too_deep"


@pytest.mark.parametrize("raw", [b"[NaN]", b"[Infinity]", b"[-Infinity]", b"[1e400]", b"[-1e400]"])
def test_non_finite_numbers_are_refused(raw: bytes) -> None:
    assert _reason(raw) == "not_finite"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"a": "x\\u0000"}', "nul_character"),
        (b'{"a\\u0000": 1}', "nul_character"),
        (b'["\\ud800"]', "lone_surrogate"),
        (b"{not json", "not_json"),
        (b"\xff\xfe\xfd", "not_json"),
        (b"[" + b"9" * 5000 + b"]", "not_json"),
    ],
)
def test_strings_postgres_cannot_hold_and_unparseable_bytes_are_refused(
    raw: bytes, reason: str
) -> None:
    assert _reason(raw) == reason


def test_a_paired_surrogate_is_a_normal_character() -> None:
    assert limits.load_json(b'["\\ud83c\\udfac"]') == ["\U0001f3ac"]


def test_strings_and_arrays_at_their_limits_pass_and_one_more_is_refused() -> None:
    text = "x" * limits.MAX_STRING_CHARS
    assert limits.load_json(f'["{text}"]'.encode()) == [text]
    assert _reason(f'["{text}x"]'.encode()) == "string_too_long"
    items = ",".join(["0"] * limits.MAX_ARRAY_ITEMS)
    assert len(limits.load_json(f"[{items}]".encode())) == limits.MAX_ARRAY_ITEMS
    assert _reason(f"[{items},0]".encode()) == "array_too_long"


def test_a_body_over_the_size_limit_is_payload_too_large() -> None:
    with pytest.raises(DirectorStudioError) as raised:
        limits.load_json(b"[" + b"0," * 10 + b"0]", max_bytes=10)
    assert raised.value.code == ErrorCode.PAYLOAD_TOO_LARGE
    assert raised.value.http_status == 413
    assert raised.value.detail == {"reason": "too_large", "limit": 10}


def test_the_error_names_where_the_bad_string_is() -> None:
    with pytest.raises(DirectorStudioError) as raised:
        limits.load_json(b'{"events": [{"element": "ok"}, {"element": "a\\u0000"}]}')
    assert raised.value.detail["at"] == "$.events[1].element"


@pytest.mark.parametrize(
    "raw",
    [
        b"[123456789012345678901234567890, -9223372036854775809, 18446744073709551615]",
        b'{"a": 1, "a": 2.5, "b": [-0, -0.0, 1e-400, 0.1, 1E5, "\\ud83c\\udfac", "\xc3\xa9"]}',
        b'\xef\xbb\xbf{"with": "a byte order mark"}',
        '{"utf16": [true, false, null]}'.encode("utf-16"),
        b' \n[{"nested": {"x": ["y", {"z": 12345678901234567}]}}] ',
    ],
)
def test_a_body_reads_as_the_standard_json_parser_reads_it(raw: bytes) -> None:
    loaded = limits.load_json(raw)
    assert loaded == json.loads(raw)
    assert repr(loaded) == repr(json.loads(raw))  # ints stay ints, with every digit


def test_an_unpaired_surrogate_written_as_raw_bytes_is_refused_too() -> None:
    assert _reason(b'["\xed\xa0\x80"]') == "lone_surrogate"


def test_a_long_string_inside_a_small_object_is_found_in_any_body() -> None:
    text = "x" * (limits.MAX_STRING_CHARS + 1)
    with pytest.raises(DirectorStudioError) as raised:
        limits.load_json(f'{{"a": [1, {{"b": "{text}"}}]}}'.encode())
    assert raised.value.detail == {
        "reason": "string_too_long",
        "limit": limits.MAX_STRING_CHARS,
        "at": "$.a[1].b",
    }


def test_a_plain_utf8_body_comes_back_as_its_text_to_pass_on() -> None:
    raw = '{"a": [1.50, "é"], "b": 0.10000000000000000555}'.encode()
    assert limits.load_json_text(raw) == ({"a": [1.5, "é"], "b": 0.1}, raw.decode())
    assert limits.load_json_text(b"\xef\xbb\xbf[1]") == ([1], None)
    assert limits.load_json_text(b"[12345678901234567890]") == ([12345678901234567890], None)
