"""``json_exact.loads`` gives the standard parser's value or error, whichever parser reads it."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from directorstudio.contracts import json_exact

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def same(a: object, b: object) -> bool:
    """Equal values of equal types all the way down (1 and 1.0 differ, NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b  # type: ignore[arg-type]
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)  # type: ignore[attr-defined,index]
    return a == b


@given(JSON_VALUES)
def test_any_json_text_loads_to_the_standard_parsers_value(value: object) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
        assert same(json_exact.loads(text), json.loads(text))
        assert same(json_exact.loads(text.encode("utf-8", "surrogatepass")), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        "12345678901234567890123",  # beyond 64 bits: orjson would read a float
        '{"version": 98765432109876543210}',
        "[9223372036854775807, -9223372036854775808]",
        "NaN",
        '{"a": Infinity, "b": -Infinity}',
        '"\\ud800"',  # an unpaired surrogate
        "1e400",
        "\ufeff{}",
    ],
)
def test_what_orjson_reads_differently_goes_to_the_standard_parser(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError as error:
        with pytest.raises(type(error)):
            json_exact.loads(text)
        return
    assert same(json_exact.loads(text), expected)


@pytest.mark.parametrize("text", ["", "{", "[1,]", "tru", '{"a" 1}'])
def test_text_that_is_not_json_raises_the_standard_parsers_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json_exact.loads(text)
