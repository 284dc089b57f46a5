"""Input strategies: by SQL type for rpc arguments, by pydantic field for the HTTP functions,
plus generic JSON and garbage.

Valid values are mixed with every bad-input class (NUL characters, deep nesting, NaN and
Infinity, over-long strings and arrays, invalid uuid/date/number text, wrong JSON types), so a
call is sometimes fully valid, sometimes wrong in one place and sometimes wrong everywhere.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
import uuid
from collections.abc import Sequence
from typing import Any

import annotated_types
import pydantic
from hypothesis import strategies as st

from directorstudio.contracts.sync import OPERATIONS, RESOLUTION_CHOICES, SYNCED_TABLES, Mutation
from directorstudio.contracts.telemetry import TelemetryEvent

JsonStrategy = st.SearchStrategy[Any]

INT32 = 2**31 - 1
INT64 = 2**63 - 1
DEEP = 1_100


def deeply_nested(depth: int = DEEP) -> Any:
    """A JSON value nested ``depth`` levels deep."""
    value: Any = 0
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


scalars: JsonStrategy = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values: JsonStrategy = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
garbage: JsonStrategy = st.one_of(
    json_values,
    st.just(deeply_nested()),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=5).map(
        lambda text: text + "\x00"
    ),
    st.just("x" * 100_000),
    st.just(list(range(20_000))),
)
texts: JsonStrategy = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=10).map(lambda t: f"a\x00{t}"),
    st.sampled_from(["", " ", "x" * 3000, "\u202e", "'; DROP TABLE x; --", "é" * 300]),
)
bad_number_text = st.sampled_from(["", "1e999", "NaN", "Infinity", "-0x1", "1,5", "٣", "9" * 40])


def uuids(known: Sequence[str]) -> JsonStrategy:
    """Known ids (so calls reach existing rows), fresh ids, and invalid uuid text."""
    choices: list[JsonStrategy] = [st.uuids().map(str)]
    if known:
        choices.insert(0, st.sampled_from(list(known)))
    choices.append(st.sampled_from(["", "not-a-uuid", "00000000-0000-0000-0000", "{}", "\x00"]))
    return st.one_of(*choices)


def integers(bound: int) -> JsonStrategy:
    return st.one_of(
        st.integers(min_value=-5, max_value=200),
        st.integers(min_value=-bound - 10, max_value=bound + 10),
        st.sampled_from([bound, bound + 1, -bound - 2, 2**80]),
        st.floats(allow_nan=True, allow_infinity=True),
        bad_number_text,
    )


floats: JsonStrategy = st.one_of(
    st.floats(min_value=-10, max_value=100),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324]),
    bad_number_text,
)
dates: JsonStrategy = st.one_of(
    st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)).map(str),
    st.dates().map(str),
    st.sampled_from(["2026-02-30", "2026-13-01", "yesterday", "", "99999-01-01", "0000-01-01"]),
)
timestamps: JsonStrategy = st.one_of(
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda moment: moment.isoformat()),
    dates,
    st.sampled_from(["infinity", "-infinity", "2026-01-01T25:00:00Z", "epoch"]),
)


MUTATION_ARGS = (
    *("title", "prompt_text", "duration", "order_index", "project_id", "heading", "content"),
    *("screenplay_id", "resolution", "fields", "prompt", "user_key", "source_project_id"),
)


def mutations(known: Sequence[str], *, careful: bool = False) -> JsonStrategy:
    """``sync_push`` batches shaped after the sync contract's Mutation (``careful``: only
    well-formed fields)."""
    tables = sorted(OPERATIONS)
    if careful:
        ids = st.sampled_from(list(known)) if known else st.uuids().map(str)
        careful_mutation = st.tuples(st.sampled_from(tables), ids, st.integers(1, 10**6)).flatmap(
            lambda t: st.fixed_dictionaries(
                {
                    "mutation_id": st.just(t[2]),
                    "table": st.just(t[0]),
                    "op": st.sampled_from(sorted(OPERATIONS[t[0]])),
                    "id": st.just(t[1]),
                    "args": st.dictionaries(
                        st.sampled_from(MUTATION_ARGS),
                        st.one_of(plain_text, ids, st.floats(min_value=0.5, max_value=10)),
                        max_size=3,
                    ),
                },
                optional={"base_version": st.integers(1, 5)},
            )
        )
        return st.lists(careful_mutation, max_size=4)
    mutation = st.fixed_dictionaries(
        {
            "mutation_id": integers(INT64),
            "table": st.one_of(st.sampled_from(tables), texts),
            "op": st.one_of(
                st.sampled_from(sorted({op for ops in OPERATIONS.values() for op in ops})), texts
            ),
            "id": uuids(known),
        },
        optional={
            "base_version": integers(INT64),
            "args": st.dictionaries(
                st.sampled_from(MUTATION_ARGS),
                st.one_of(texts, floats, uuids(known), json_values),
                max_size=4,
            ),
        },
    )
    assert set(Mutation.model_fields) >= {"mutation_id", "table", "op", "id", "args"}
    return st.one_of(st.lists(mutation, max_size=4), garbage)


def telemetry_events() -> JsonStrategy:
    """``events`` lists shaped after TelemetryEvent."""
    return st.one_of(st.lists(model_values(TelemetryEvent, ()), max_size=5), garbage)


def jsonb_for(name: str, known: Sequence[str]) -> JsonStrategy:
    """A jsonb argument: shaped after its contract model when one is known, else any JSON."""
    shaped: dict[str, JsonStrategy] = {
        "p_mutations": mutations(known),
        "p_events": telemetry_events(),
        "p_patch": st.dictionaries(
            st.sampled_from(["prompt_text", "duration", "scene_type", "shot_type", "other"]),
            st.one_of(texts, floats, json_values),
            max_size=4,
        ),
        "p_fields": st.lists(st.sampled_from(["title", "prompt_text", "duration"]), max_size=3),
    }
    return st.one_of(shaped.get(name, json_values), garbage)


def sql_value(sql_type: str, name: str, known: Sequence[str]) -> JsonStrategy:
    """A JSON value for an argument of ``sql_type``: mostly the right kind, sometimes not."""
    if sql_type.endswith("[]"):
        element = sql_value(sql_type[:-2], name, known)
        right = st.lists(element, max_size=6)
    else:
        right = {
            "uuid": uuids(known),
            "text": texts,
            "integer": integers(INT32),
            "smallint": integers(2**15),
            "bigint": integers(INT64),
            "double precision": floats,
            "real": floats,
            "numeric": floats,
            "boolean": st.booleans(),
            "jsonb": jsonb_for(name, known),
            "json": jsonb_for(name, known),
            "date": dates,
            "timestamp with time zone": timestamps,
        }.get(sql_type, json_values)
    return st.one_of(right, right, right, garbage)


# Text arguments whose valid values are a small set.
TEXT_CHOICES: dict[str, tuple[str, ...]] = {
    "p_status": ("processing", "completed", "failed", "queued", "canceled"),
    "p_resolution": RESOLUTION_CHOICES,
    "p_table": SYNCED_TABLES,
}
plain_text = st.text(
    alphabet=st.characters(codec="ascii", categories=["L", "N", "Zs"]), max_size=30
)


def well_formed(sql_type: str, name: str, known: Sequence[str]) -> JsonStrategy:
    """A value a careful client would send for an argument of ``sql_type``: right type, sane
    range, known ids more often than fresh ones (so calls reach existing rows)."""
    ids = st.sampled_from(list(known)) if known else st.uuids().map(str)
    if sql_type.endswith("[]"):
        return st.lists(well_formed(sql_type[:-2], name, known), max_size=4, unique=True)
    if sql_type == "text" and name in TEXT_CHOICES:
        return st.sampled_from(TEXT_CHOICES[name])
    if sql_type in ("jsonb", "json"):
        return {
            "p_events": st.lists(
                st.fixed_dictionaries(
                    {
                        "element": plain_text.filter(bool),
                        "attempts": st.integers(3, 9),
                        "successes": st.integers(0, 3),
                    }
                ),
                min_size=1,
                max_size=4,
            ),
            "p_patch": st.dictionaries(
                st.sampled_from(["prompt_text", "duration"]),
                st.one_of(plain_text, st.floats(min_value=0.5, max_value=10)),
                max_size=2,
            ),
            "p_mutations": mutations(known, careful=True),
        }.get(name, json_values)
    return {
        "uuid": st.one_of(ids, ids, st.uuids().map(str)),
        "text": st.one_of(ids, plain_text),
        "integer": st.integers(0, 100),
        "smallint": st.integers(0, 100),
        "bigint": st.integers(1, 5),
        "double precision": st.floats(min_value=0, max_value=10),
        "boolean": st.booleans(),
        "date": st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)).map(str),
        "timestamp with time zone": st.datetimes(
            dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31), timezones=st.just(dt.UTC)
        ).map(lambda moment: moment.isoformat()),
    }.get(sql_type, json_values)


def _constrained_text(metadata: Sequence[Any]) -> JsonStrategy:
    low = next((m.min_length for m in metadata if isinstance(m, annotated_types.MinLen)), 0)
    high = next((m.max_length for m in metadata if isinstance(m, annotated_types.MaxLen)), 200)
    return st.one_of(
        st.text(min_size=low, max_size=min(high, 60)),
        st.just("y" * (high + 1)),
        texts,
    )


def _constrained_int(metadata: Sequence[Any]) -> JsonStrategy:
    low: Any = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), -INT32)
    high: Any = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), INT32)
    return st.one_of(
        st.integers(min_value=int(low), max_value=int(high)),
        st.sampled_from([int(low) - 1, int(high) + 1]),
        integers(INT64),
    )


def annotation_values(annotation: Any, metadata: Sequence[Any], known: Sequence[str]) -> Any:
    """Values for a pydantic field annotation (and its constraints)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(
            *(annotation_values(arg, metadata, known) for arg in typing.get_args(annotation))
        )
    if origin is typing.Literal:
        return st.one_of(st.sampled_from(typing.get_args(annotation)), texts)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return st.lists(annotation_values(item, (), known), max_size=5)
    if annotation is type(None):
        return st.none()
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return model_values(annotation, known)
    simple: dict[Any, JsonStrategy] = {
        uuid.UUID: uuids(known),
        str: _constrained_text(metadata),
        int: _constrained_int(metadata),
        float: floats,
        bool: st.booleans(),
        dt.date: dates,
        dt.datetime: timestamps,
    }
    return simple.get(annotation, json_values)


def model_values(model: type[pydantic.BaseModel], known: Sequence[str]) -> JsonStrategy:
    """JSON objects for ``model``: its fields (each sometimes wrong, sometimes missing), and
    sometimes an unknown extra field."""
    required: dict[str, JsonStrategy] = {}
    optional: dict[str, JsonStrategy] = {}
    for name, field in model.model_fields.items():
        right = annotation_values(field.annotation, field.metadata, known)
        values = st.one_of(right, right, right, right, garbage)
        (required if field.is_required() else optional)[name] = values
    optional["unexpected_field"] = json_values
    valid_shape = st.fixed_dictionaries(required, optional=optional)
    missing = st.fixed_dictionaries({}, optional={**required, **optional})
    return st.one_of(valid_shape, valid_shape, valid_shape, missing)
