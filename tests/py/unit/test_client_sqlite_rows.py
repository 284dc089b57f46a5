"""How the SQLite cache encodes pulled server rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from directorstudio_client import SQLiteStorage
from directorstudio_client.storage.models import CachedRow
from directorstudio_client.storage.sqlite_rows import dump, dump_server_row

# What a server row parsed from JSON can hold: JSON has no NaN or infinity, but its integers
# may exceed 64 bits.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=8,
)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=8))
def test_a_server_row_is_stored_as_the_json_the_cache_always_wrote(row: dict[str, Any]):
    stored = dump_server_row(row)
    assert json.loads(stored) == row
    assert json.loads(stored) == json.loads(dump(row))
    assert list(json.loads(stored)) == sorted(row)


def test_a_pulled_row_reads_back_with_its_server_row_unchanged(tmp_path: Path):
    server_row = {
        "id": "7a0c54a1-5f6e-4d8e-9a51-1d7b1b9f3c11",
        "prompt_text": 'Dawn — ünïcode \u2603 and "quotes"',
        "duration": 2.5,
        "order_index": 3,
        "archived": False,
        "deleted_at": None,
        "field_versions": {"prompt_text": 4, "duration": 2},
        "sync_txid": "812",
        "version": 4,
        "huge": 2**80,
    }
    store = SQLiteStorage(tmp_path / "cache.db")
    view = {k: v for k, v in server_row.items() if k not in ("field_versions", "sync_txid")}
    store.put_rows(
        [CachedRow("scene_drafts", str(server_row["id"]), view, dict(server_row), 4, False)]
    )
    cached = store.get_row("scene_drafts", str(server_row["id"]))
    store.close()
    assert cached is not None
    assert cached.server_row == server_row
    assert cached.row == {k: v for k, v in view.items() if v is not None}
    assert cached.version == 4
