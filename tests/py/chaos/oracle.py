"""The op log and what it implies: the expected final state of every user's data.

Every value the generator writes is unique (it carries the step that wrote it), so any value
found on a client or the server names the write it came from. The sync model's last-writer-wins
is read as "the write generated last wins": the test resolves every conflict that way, so the
expected value of a field is the value of the last write the generator issued for it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

FieldKey = tuple[str, str, str]  # table, row id, field


@dataclass
class UserModel:
    """What the generator did for one user."""

    user_id: str
    projects: dict[str, str | None] = field(default_factory=dict)  # id -> duplicated from
    scenes: dict[str, str] = field(default_factory=dict)  # id -> project id
    deleted_scenes: set[str] = field(default_factory=set)
    jobs: dict[str, str] = field(default_factory=dict)  # id -> project id
    canceled_jobs: set[str] = field(default_factory=set)
    granted: int = 0


@dataclass
class Oracle:
    """The op log with its expectations."""

    users: dict[str, UserModel] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)
    _writes: dict[FieldKey, tuple[int, Any]] = field(default_factory=dict)
    _steps: dict[tuple[str, str, str, Any], tuple[int, str]] = field(default_factory=dict)

    def user(self, user_id: str) -> UserModel:
        return self.users.setdefault(user_id, UserModel(user_id))

    # --- recording -------------------------------------------------------------------------------
    def record(self, step: int, device: str, op: dict[str, Any]) -> None:
        self.ops[op["kind"]] += 1
        self.log.append({"step": step, "device": device, **op})

    def wrote(
        self, step: int, device: str, table: str, row_id: str, values: dict[str, Any]
    ) -> None:
        """``device`` wrote ``values`` to a row at ``step``."""
        for name, value in values.items():
            key = (table, row_id, name)
            previous = self._writes.get(key)
            if previous is None or previous[0] < step:
                self._writes[key] = (step, value)
            self._steps[(table, row_id, name, value)] = (step, device)

    # --- reading ---------------------------------------------------------------------------------
    def step_of(self, table: str, row_id: str, name: str, value: Any) -> int | None:
        """Which step wrote this value to this field (None: the generator never did)."""
        found = self._steps.get((table, row_id, name, value))
        return None if found is None else found[0]

    def writer_of(self, table: str, row_id: str, name: str, value: Any) -> str | None:
        """Which device wrote this value to this field."""
        found = self._steps.get((table, row_id, name, value))
        return None if found is None else found[1]

    def expected(self, table: str, row_id: str, name: str) -> Any:
        return self._writes[(table, row_id, name)][1]

    def expects(self, table: str, row_id: str, name: str) -> bool:
        return (table, row_id, name) in self._writes

    def choose(self, table: str, row_id: str, name: str, local: Any, remote: Any) -> str:
        """A conflict's deterministic resolution: the value written later wins."""
        mine = self.step_of(table, row_id, name, local)
        theirs = self.step_of(table, row_id, name, remote)
        if mine is None or theirs is None:
            raise LookupError(f"{table} {row_id} {name}: no write produced {local!r}/{remote!r}")
        return "local" if mine > theirs else "remote"
