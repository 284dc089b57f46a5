"""Draining the outbox through ``sync_push``: batching, outcomes, backoff, dead letters."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import orjson

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.sync import (
    MAX_PUSH_BATCH,
    MAX_PUSH_BYTES,
    SYNCED_TABLES,
    MutationResult,
    PushResponse,
)
from directorstudio.contracts.tables import PROJECTS, SCENE_DRAFTS
from directorstudio_client.clock import Clock
from directorstudio_client.storage.models import EntryState, OutboxEntry
from directorstudio_client.storage.protocol import Storage
from directorstudio_client.sync import ops
from directorstudio_client.sync.backoff import BackoffPolicy
from directorstudio_client.sync.reconcile import Reconciler
from directorstudio_client.transport.protocol import Transport

Settled = Callable[[OutboxEntry, Any, BaseException | None], None]
Sent = tuple[PushResponse | dict[str, Any], float, float]
# The creates whose confirmation is measured (telemetry "create_confirmed").
CREATE_OPS = {(PROJECTS.name, "upsert"), (SCENE_DRAFTS.name, "create")}


@dataclass
class PushReport:
    """What one push round did."""

    sent: int = 0
    applied: int = 0
    conflicts: int = 0
    dead: int = 0
    failed: bool = False
    error: dict[str, Any] | None = None
    latency: float | None = None
    settled: list[str] = field(default_factory=list)


def wire_mutation(entry: OutboxEntry) -> dict[str, Any]:
    """An entry as ``sync_push`` takes it."""
    return {
        "mutation_id": entry.mutation_id,
        "table": entry.table,
        "op": entry.op,
        "id": entry.row_id,
        "base_version": entry.base_version,
        "base_mutation_id": entry.base_mutation_id,
        "args": entry.args,
    }


def wire_size(mutation: dict[str, Any]) -> int:
    """The bytes of ``mutation`` in a push body (compact UTF-8 JSON, as supabase-py sends)."""
    try:
        return len(orjson.dumps(mutation))
    except (orjson.JSONEncodeError, TypeError):  # e.g. an integer beyond 64 bits
        return len(json.dumps(mutation, ensure_ascii=False, separators=(",", ":")).encode())


def error_json(error: DirectorStudioError) -> dict[str, Any]:
    """An error as stored in ``last_error``."""
    return {"code": str(error.code), "message": error.message}


class OutboxDrainer:
    """Sends eligible outbox entries in order and records each outcome durably."""

    def __init__(
        self,
        storage: Storage,
        transport: Transport,
        clock: Clock,
        rng: random.Random,
        client_id: str,
        policy: BackoffPolicy,
        batch_size: int,
        reconciler: Reconciler,
        on_settled: Settled,
        settling: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self._storage = storage
        self._transport = transport
        self._clock = clock
        self._rng = rng
        self._client_id = client_id
        self._policy = policy
        self._batch_size = max(1, min(batch_size, MAX_PUSH_BATCH))
        self._reconciler = reconciler
        self._on_settled = on_settled
        self._settling = settling
        # What a batch's applied results confirm, written together when the batch is recorded.
        self._confirmed = _Confirmed()

    # --- choosing a batch -----------------------------------------------------------------------
    def next_batch(self, exclude: frozenset[str] = frozenset()) -> list[OutboxEntry]:
        """The longest prefix of the open entries that may be sent now, in mutation order
        (``exclude``: entries of a batch still awaiting its answer, which come first), at most
        ``batch_size`` entries and ``MAX_PUSH_BYTES`` of JSON."""
        now = self._clock.now()
        batch: list[OutboxEntry] = []
        size = 0
        for entry in self._storage.get_open_entries(self._batch_size, exclude):
            due = entry.state in (EntryState.PENDING, EntryState.IN_FLIGHT) or (
                entry.state == EntryState.RETRY_WAIT and (entry.next_attempt_at or 0) <= now
            )
            if not due:
                break  # keep the order: nothing overtakes an entry that is waiting
            size += wire_size(wire_mutation(entry)) + 1
            if batch and size > MAX_PUSH_BYTES:
                break
            # An entry following another of the same row in this batch carries that entry's
            # mutation id, and the server takes its result as the base (no self-conflict).
            batch.append(entry)
            if len(batch) >= self._batch_size:
                break
        return batch

    # --- one round: claim, send, record -------------------------------------------------------
    def push_once(self) -> PushReport:
        """Send one batch; returns what happened (nothing sent when nothing is due)."""
        batch = self.claim()
        if not batch:
            return PushReport()
        return self.record(batch, *self.send(batch))

    def claim(self, exclude: frozenset[str] = frozenset()) -> list[OutboxEntry]:
        """Choose the next batch and mark it in flight."""
        return self.claim_with_states(exclude)[0]

    def claim_with_states(
        self, exclude: frozenset[str] = frozenset()
    ) -> tuple[list[OutboxEntry], list[EntryState]]:
        """:meth:`claim`, with the states the entries had (for :meth:`release`)."""
        # Chosen and marked in one transaction, so no local write can fold into an entry
        # between the moment it is chosen and the moment it is in flight.
        with self._storage.transaction():
            batch = self.next_batch(exclude)
            self._storage.mark_in_flight([entry.entry_id for entry in batch])
            states = [entry.state for entry in batch]
            for entry in batch:
                entry.state = EntryState.IN_FLIGHT
        return batch, states

    def release(self, batch: list[OutboxEntry], states: list[EntryState]) -> None:
        """Put claimed entries that were not sent back in the states they had (nothing else of
        them changed meanwhile: no local write folds into an entry in flight)."""
        with self._storage.transaction():
            for entry, state in zip(batch, states, strict=True):
                entry.state = state
                self._storage.update_sync_entry(entry)

    def send(self, batch: list[OutboxEntry]) -> Sent:
        """Call ``sync_push`` with a batch: (answer or failure, start time, end time). Touches
        no local state, so it may run while the previous answer is being recorded."""
        mutations = [wire_mutation(e) for e in batch]
        started = self._clock.now()
        answer: PushResponse | dict[str, Any]
        try:
            raw = self._transport.rpc(
                "sync_push", {"p_client_id": self._client_id, "p_mutations": mutations}
            )
            answer = PushResponse.model_validate(raw)
            if len(answer.results) != len(batch):
                raise DirectorStudioError(
                    "sync_push answered a different number of results", code=ErrorCode.INTERNAL
                )
        except DirectorStudioError as error:
            answer = error_json(error)
        except Exception as error:  # a malformed answer or a broken client library
            answer = {"code": str(ErrorCode.UNAVAILABLE), "message": str(error)}
        return answer, started, self._clock.now()

    def record(
        self, batch: list[OutboxEntry], answer: PushResponse | dict[str, Any], started: float,
        finished: float,
    ) -> PushReport:  # fmt: skip
        """Record a batch's answer durably (or schedule its retry); then resolve its handles."""
        report = PushReport(sent=len(batch))
        if not isinstance(answer, PushResponse):
            self._schedule_retry(batch, answer)
            report.failed, report.error = True, answer
            return report
        report.latency = finished - started
        # Recorded before any handle resolves, so health read on confirmation is current.
        verdicts: list[tuple[OutboxEntry, MutationResult, BaseException | None]] = []
        self._confirmed = _Confirmed()
        with self._storage.transaction():
            self._storage.set_meta("last_success_at", repr(finished))
            self._storage.set_meta("last_latency", repr(report.latency))
            for entry, result in zip(batch, answer.results, strict=True):
                verdicts.append((entry, result, self._settle(entry, result, report)))
            self._write_confirmed()
        # The handles' telemetry (outcome counts, create-to-confirm) in one local transaction,
        # inside ``settling`` (the service sums the batch's increments there).
        with self._storage.transaction(), self._settling():
            for entry, result, verdict in verdicts:
                self._on_settled(entry, result, verdict)
        return report

    @staticmethod
    def keeps_ids(batch: list[OutboxEntry], answer: PushResponse) -> bool:
        """Whether the server kept every row id (no local id to replace before the next batch
        may be sent)."""
        for entry, result in zip(batch, answer.results, strict=True):
            if entry.table in SYNCED_TABLES and entry.op != "reorder" and result.row:
                returned = ops.server_id(entry.table, result.row)
                if returned is not None and returned != entry.row_id:
                    return False
        return True

    def _schedule_retry(self, batch: list[OutboxEntry], error: dict[str, Any]) -> None:
        now = self._clock.now()
        with self._storage.transaction():
            for entry in batch:
                entry.attempts += 1
                entry.window_attempts += 1
                entry.last_error = error
                if entry.window_started_at is None:
                    entry.window_started_at = now
                delay = self._policy.delay(entry.window_attempts, self._rng)
                if now + delay > entry.window_started_at + self._policy.retry_window:
                    # Out of the retry window: back to pending, to be tried on the next round.
                    entry.state = EntryState.PENDING
                    entry.requeues += 1
                    entry.window_started_at = None
                    entry.window_attempts = 0
                    entry.next_attempt_at = None
                else:
                    entry.state = EntryState.RETRY_WAIT
                    entry.next_attempt_at = now + delay
                self._storage.update_sync_entry(entry)

    # --- outcomes -------------------------------------------------------------------------------
    def _settle(
        self, entry: OutboxEntry, result: MutationResult, report: PushReport
    ) -> BaseException | None:
        """Record one verdict; returns the error its handle fails with (``None`` if none)."""
        outcome = result.outcome
        if outcome == "duplicate" and result.error is not None:
            outcome = "rejected"
        failure: DirectorStudioError | None = None
        if outcome in ("applied", "duplicate"):
            self._applied(entry, result)
            report.applied += 1
            report.settled.append(entry.entry_id)
            return None
        # Anything else reads the local state: what earlier results confirmed is written first.
        self._write_confirmed()
        if outcome == "conflict":
            self._conflict(entry, result)
            report.conflicts += 1
        else:
            error = result.error
            failure = DirectorStudioError(
                error.message if error else "rejected",
                code=_code(error.code if error else None),
                detail=error.detail if error else None,
            )
            self._dead(entry, failure)
            report.dead += 1
        report.settled.append(entry.entry_id)
        return failure

    def _applied(self, entry: OutboxEntry, result: MutationResult) -> None:
        entry.state, entry.outcome = EntryState.DONE, result.outcome
        confirmed = self._confirmed
        confirmed.removed.append(entry.entry_id)
        row = result.row
        if entry.op == "reorder":
            if isinstance(row, dict):
                confirmed.rows.append((PROJECTS.name, row))
            confirmed.reordered.extend(str(i) for i in entry.args.get("ordered_ids", []))
        elif entry.table in SYNCED_TABLES and isinstance(row, dict):
            returned = ops.server_id(entry.table, row)
            if returned is not None and returned != entry.row_id:
                self._write_confirmed()
                self._reconciler.remap(entry.table, entry.row_id, returned)
            confirmed.rows.append((entry.table, row))
            confirmed.rebases.append((entry.table, returned or entry.row_id, row))
        confirmed.rows.extend((SCENE_DRAFTS.name, scene) for scene in result.rows or [])

    def _write_confirmed(self) -> None:
        """Write what the applied results so far confirmed: their entries removed and their
        server rows in bulk, then the later entries of those rows rebased on them, then the
        views of reordered scenes that came without a row."""
        confirmed, self._confirmed = self._confirmed, _Confirmed()
        if confirmed.removed:
            self._storage.remove_sync_entries(confirmed.removed)
        if confirmed.rows:
            self._reconciler.apply_server_rows(confirmed.rows)
        by_table: dict[str, list[str]] = {}
        for table, row_id, _ in confirmed.rebases:
            by_table.setdefault(table, []).append(row_id)
        busy = {
            (table, row_id)
            for table, ids in by_table.items()
            for row_id in self._storage.rows_with_open_entries(table, ids)
        }
        for table, row_id, row in confirmed.rebases:
            if (table, row_id) in busy:
                self._rebase_later_updates(table, row_id, row)
        written = {
            ops.server_id(table, row) for table, row in confirmed.rows if table == SCENE_DRAFTS.name
        }
        for row_id in dict.fromkeys(confirmed.reordered):
            if row_id not in written:
                self._reconciler.rebuild(SCENE_DRAFTS.name, row_id)

    def _rebase_later_updates(self, table: str, row_id: str, row: dict[str, Any]) -> None:
        version = int(row.get("version") or 0)
        for later in self._storage.get_open_entries_for_row(table, row_id):
            if (
                later.table == table
                and later.row_id == row_id
                and later.base_version is not None
                and later.attempts == 0
                and later.state == EntryState.PENDING
                and (later.base_version or 0) < version
            ):
                later.base_version = version
                self._storage.update_sync_entry(later)

    def _conflict(self, entry: OutboxEntry, result: MutationResult) -> None:
        cached = self._storage.get_row(entry.table, entry.row_id)
        local = dict(cached.row) if cached is not None else {}
        entry.state, entry.outcome = EntryState.DONE, "conflict"
        self._storage.remove_sync_entry(entry.entry_id)
        current = result.current or {}
        if entry.table in SYNCED_TABLES and current:
            self._reconciler.record_conflict(
                entry.table, entry.row_id, local, current, list(result.fields or [])
            )
            self._reconciler.requeue_remainder(
                entry, list(result.fields or []), int(current.get("version") or 0)
            )
            self._reconciler.apply_server_row(entry.table, current)

    def _dead(self, entry: OutboxEntry, error: DirectorStudioError) -> None:
        entry.state = EntryState.DEAD
        entry.outcome = "rejected"
        entry.attempts += 1
        entry.last_error = error_json(error)
        entry.next_attempt_at = None
        self._storage.update_sync_entry(entry)

    # --- the user's choices about dead letters ------------------------------------------------
    def retry_dead(self, entry_id: str) -> OutboxEntry:
        """Send a dead entry again (under a new mutation id, after everything already queued)."""
        with self._storage.transaction():
            entry = self._require_dead(entry_id)
            entry.mutation_id = self._storage.next_mutation_id()
            entry.state = EntryState.PENDING
            entry.next_attempt_at = None
            entry.window_started_at = None
            entry.window_attempts = 0
            self._storage.update_sync_entry(entry)
            return entry

    def discard_dead(self, entry_id: str) -> OutboxEntry:
        """Drop a dead entry on the user's request; its local effect is undone."""
        with self._storage.transaction():
            entry = self._require_dead(entry_id)
            self._storage.remove_sync_entry(entry_id)
            if entry.table in SYNCED_TABLES:
                for row_id in ops.touched_rows(entry):
                    self._reconciler.rebuild(entry.table, row_id)
            return entry

    def _require_dead(self, entry_id: str) -> OutboxEntry:
        entry = self._storage.get_sync_entry(entry_id)
        if entry is None or entry.state != EntryState.DEAD:
            raise DirectorStudioError(
                f"no dead-lettered outbox entry {entry_id}", code=ErrorCode.NOT_FOUND
            )
        return entry


@dataclass
class _Confirmed:
    """The entries of applied results (to remove), the server rows they confirmed (in
    order), rows whose later entries are rebased on them, and the scene ids of applied
    reorders."""

    removed: list[str] = field(default_factory=list)
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rebases: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    reordered: list[str] = field(default_factory=list)


def _code(code: str | None) -> ErrorCode:
    try:
        return ErrorCode(code or "internal")
    except ValueError:
        return ErrorCode.INTERNAL
