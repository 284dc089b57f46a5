"""Presence on a topic, in Phoenix.Presence's shapes.

Each joined channel tracks at most one presence per topic under its presence key (the join's
``presence.key``, a generated id when empty). The state is ``{key: {"metas": [meta, ...]}}``,
each meta the tracked payload plus a ``phx_ref`` (and ``phx_ref_prev`` after an update); a change
is a diff ``{"joins": state, "leaves": state}``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

State = dict[str, dict[str, list[dict[str, Any]]]]


def new_ref() -> str:
    """A presence reference, unique like Phoenix's."""
    return secrets.token_urlsafe(12)


@dataclass
class _Entry:
    key: str
    meta: dict[str, Any]
    payload: Any


def _state(entries: list[_Entry]) -> State:
    grouped: State = {}
    for entry in entries:
        grouped.setdefault(entry.key, {"metas": []})["metas"].append(entry.meta)
    return grouped


def diff(joins: list[_Entry], leaves: list[_Entry]) -> dict[str, State]:
    """A presence_diff payload."""
    return {"joins": _state(joins), "leaves": _state(leaves)}


@dataclass
class PresenceTracker:
    """Every tracked presence, by topic and owner (the channel that tracked it)."""

    make_ref: Callable[[], str] = new_ref
    _topics: dict[Hashable, dict[Hashable, _Entry]] = field(default_factory=dict)

    def state(self, topic: Hashable) -> State:
        """The presence_state payload of ``topic``."""
        return _state(list(self._topics.get(topic, {}).values()))

    def track(
        self, topic: Hashable, owner: Hashable, key: str, payload: dict[str, Any]
    ) -> dict[str, State] | None:
        """Track or update the owner's presence; the diff, or None when nothing changed."""
        entries = self._topics.setdefault(topic, {})
        previous = entries.get(owner)
        if previous is not None and previous.payload == payload:
            return None
        meta = {**payload, "phx_ref": self.make_ref()}
        if previous is not None:
            meta["phx_ref_prev"] = previous.meta["phx_ref"]
        entry = _Entry(key, meta, payload)
        entries[owner] = entry
        return diff([entry], [previous] if previous is not None else [])

    def untrack(self, topic: Hashable, owner: Hashable) -> dict[str, State] | None:
        """Remove the owner's presence; the diff, or None when it tracked nothing."""
        entries = self._topics.get(topic, {})
        previous = entries.pop(owner, None)
        if not entries:
            self._topics.pop(topic, None)
        return None if previous is None else diff([], [previous])
