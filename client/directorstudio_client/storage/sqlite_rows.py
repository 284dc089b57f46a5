"""Cached rows to and from the columns of the SQLite tables that mirror the server tables.

A row's fields go to their typed columns (booleans as 0/1); anything else the server sends
(``field_versions``, ``sync_txid``, columns a later server adds) goes to ``_extra`` as JSON, so a
list query decodes JSON only for rows that have such extras. Fields that are NULL are left out
of the returned view, as they were never set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from directorstudio.contracts import json_exact
from directorstudio.contracts.tables import TableSpec
from directorstudio_client.storage.models import CachedRow
from directorstudio_client.storage.sqlite_schema import ROW_META

_JSON = json.JSONEncoder(sort_keys=True, default=str)


def dump(value: Any) -> str:
    """JSON as stored in the cache."""
    return _JSON.encode(value)


_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def dump_server_row(row: dict[str, Any]) -> str:
    """A row as the server sent it, as stored in the cache (what :func:`dump` writes, without
    its spaces).

    Server rows are parsed from JSON, which has no NaN or infinity (the one value orjson would
    write differently), so orjson encodes them exactly and ten times faster; what it cannot
    encode (an integer beyond 64 bits) goes through :func:`dump`."""
    try:
        return orjson.dumps(row, default=str, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return dump(row)


def all_columns(spec: TableSpec) -> tuple[str, ...]:
    """The columns of a cache table, fields first."""
    return (*spec.field_names, *ROW_META)


def view_columns(spec: TableSpec) -> str:
    """The select list of a row's local view (fields and extras)."""
    return ", ".join((*spec.field_names, "_extra"))


def insert_sql(spec: TableSpec) -> str:
    """The statement that stores one cached row (replacing the previous one)."""
    columns = all_columns(spec)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT OR REPLACE INTO {spec.name} ({', '.join(columns)}) VALUES ({marks})"


RowEncoder = Callable[[CachedRow], tuple[Any, ...]]
_ENCODERS: dict[str, RowEncoder] = {}
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def row_encoder(spec: TableSpec) -> RowEncoder:
    """Turns a cached row into the parameters of :func:`insert_sql` (one closure per table).

    Booleans go in as they are: SQLite stores ``True``/``False`` as 1/0."""
    encoder = _ENCODERS.get(spec.name)
    if encoder is not None:
        return encoder
    names = spec.field_names
    known = frozenset(names)
    id_position = names.index(spec.id_column)
    scalar = _SCALAR_TYPES

    def encode_row(cached: CachedRow) -> tuple[Any, ...]:
        row = cached.row
        values = list(map(row.get, names))
        extra = {} if known.issuperset(row) else {k: row[k] for k in row.keys() - known}
        if not scalar.issuperset(map(type, values)):
            for position, value in enumerate(values):
                if type(value) not in scalar:
                    extra[names[position]] = value
                    values[position] = None
        values[id_position] = cached.id
        server_row = cached.server_row
        values.append(cached.version)
        values.append(int(cached.deleted))
        values.append(None if server_row is None else dump_server_row(server_row))
        values.append(dump(extra) if extra else None)
        return tuple(values)

    _ENCODERS[spec.name] = encode_row
    return encode_row


def encode(spec: TableSpec, cached: CachedRow) -> tuple[Any, ...]:
    """The parameters of :func:`insert_sql` for a cached row."""
    return row_encoder(spec)(cached)


ViewDecoder = Callable[[tuple[Any, ...]], dict[str, Any]]
_DECODERS: dict[str, ViewDecoder] = {}


def view_decoder(spec: TableSpec) -> ViewDecoder:
    """Turns a record of :func:`view_columns` into a local view (one closure per table)."""
    decoder = _DECODERS.get(spec.name)
    if decoder is not None:
        return decoder
    names = spec.field_names
    booleans = tuple(f.name for f in spec.fields if f.type == "boolean")
    loads = json_exact.loads

    def decode_record(record: tuple[Any, ...]) -> dict[str, Any]:
        row = {k: v for k, v in zip(names, record) if v is not None}  # noqa: B905 - extra last
        for name in booleans:
            if name in row:
                row[name] = bool(row[name])
        extra = record[-1]
        if extra is not None:
            row.update(loads(extra))
        return row

    _DECODERS[spec.name] = decode_record
    return decode_record


def decode_view(spec: TableSpec, record: tuple[Any, ...]) -> dict[str, Any]:
    """A local view from the columns of :func:`view_columns`."""
    return view_decoder(spec)(record)


def decode(spec: TableSpec, record: tuple[Any, ...]) -> CachedRow:
    """A cached row from every column of its table (in :func:`all_columns` order)."""
    count = len(spec.fields)
    view = decode_view(spec, (*record[:count], record[count + 3]))
    server_version, deleted, server_row = record[count : count + 3]
    return CachedRow(
        table=spec.name,
        id=str(record[spec.field_names.index(spec.id_column)]),
        row=view,
        server_row=None if server_row is None else json_exact.loads(server_row),
        version=int(server_version),
        deleted=bool(deleted),
    )
