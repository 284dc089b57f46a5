"""Draining the outbox through ``sync_push``: batching, outcomes, backoff, dead letters."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.sync import (
    MAX_PUSH_BATCH,
    SYNCED_TABLES,
    MutationResult,
    PushResponse,
)
from directorstudio_client.clock import Clock
from directorstudio_client.storage.models import EntryState, OutboxEntry
from directorstudio_client.storage.protocol import Storage
from directorstudio_client.sync import ops
from directorstudio_client.sync.backoff import BackoffPolicy
from directorstudio_client.sync.reconcile import Reconciler
from directorstudio_client.transport.protocol import Transport

Settled = Callable[[OutboxEntry, Any, BaseException | None], None]
CREATE_OPS = {("project_overview", "upsert"), ("scene_drafts", "create")}
# Writes sent with the version they were based on: one waits for the row's earlier write to be
# confirmed and is then based on its version, so two writes of one client never conflict.
BASED_OPS = ("update", "rename")


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

    # --- choosing a batch -----------------------------------------------------------------------
    def next_batch(self) -> list[OutboxEntry]:
        """The longest prefix of the open entries that may be sent now, in mutation order."""
        now = self._clock.now()
        batch: list[OutboxEntry] = []
        updated: set[tuple[str, str]] = set()
        for entry in self._storage.get_pending_sync_entries():
            if entry.state == EntryState.DEAD:
                continue
            due = entry.state in (EntryState.PENDING, EntryState.IN_FLIGHT) or (
                entry.state == EntryState.RETRY_WAIT and (entry.next_attempt_at or 0) <= now
            )
            if not due:
                break  # keep the order: nothing overtakes an entry that is waiting
            key = (entry.table, entry.row_id)
            if entry.op in BASED_OPS and key in updated and entry.attempts == 0:
                break  # its base version is set once the earlier write is confirmed
            if entry.op in ("create", "upsert", *BASED_OPS):
                updated.add(key)
            batch.append(entry)
            if len(batch) >= self._batch_size:
                break
        return batch

    # --- one round ------------------------------------------------------------------------------
    def push_once(self) -> PushReport:
        """Send one batch; returns what happened (nothing sent when nothing is due)."""
        report = PushReport()
        # Chosen and marked in one transaction, so no local write can fold into an entry
        # between the moment it is chosen and the moment it is in flight.
        with self._storage.transaction():
            batch = self.next_batch()
            for entry in batch:
                entry.state = EntryState.IN_FLIGHT
                self._storage.update_sync_entry(entry)
        if not batch:
            return report
        mutations = [
            {
                "mutation_id": e.mutation_id,
                "table": e.table,
                "op": e.op,
                "id": e.row_id,
                "base_version": e.base_version,
                "args": e.args,
            }
            for e in batch
        ]
        report.sent = len(batch)
        started = self._clock.now()
        try:
            raw = self._transport.rpc(
                "sync_push", {"p_client_id": self._client_id, "p_mutations": mutations}
            )
            response = PushResponse.model_validate(raw)
            if len(response.results) != len(batch):
                raise DirectorStudioError(
                    "sync_push answered a different number of results", code=ErrorCode.INTERNAL
                )
        except DirectorStudioError as error:
            self._schedule_retry(batch, error_json(error))
            report.failed, report.error = True, error_json(error)
            return report
        except Exception as error:  # a malformed answer or a broken client library
            failure = {"code": str(ErrorCode.UNAVAILABLE), "message": str(error)}
            self._schedule_retry(batch, failure)
            report.failed, report.error = True, failure
            return report
        finished = self._clock.now()
        report.latency = finished - started
        # Recorded before any handle resolves, so health read on confirmation is current.
        self._storage.set_meta("last_success_at", repr(finished))
        self._storage.set_meta("last_latency", repr(report.latency))
        for entry, result in zip(batch, response.results, strict=True):
            self._settle(entry, result, report)
        return report

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
    def _settle(self, entry: OutboxEntry, result: MutationResult, report: PushReport) -> None:
        outcome = result.outcome
        if outcome == "duplicate" and result.error is not None:
            outcome = "rejected"
        with self._storage.transaction():
            if outcome in ("applied", "duplicate"):
                self._applied(entry, result)
                report.applied += 1
                self._on_settled(entry, result, None)
            elif outcome == "conflict":
                self._conflict(entry, result)
                report.conflicts += 1
                self._on_settled(entry, result, None)
            else:
                error = result.error
                failure = DirectorStudioError(
                    error.message if error else "rejected",
                    code=_code(error.code if error else None),
                    detail=error.detail if error else None,
                )
                self._dead(entry, failure)
                report.dead += 1
                self._on_settled(entry, result, failure)
            report.settled.append(entry.entry_id)

    def _applied(self, entry: OutboxEntry, result: MutationResult) -> None:
        entry.state, entry.outcome = EntryState.DONE, result.outcome
        self._storage.update_sync_entry(entry)
        self._storage.remove_sync_entry(entry.entry_id)
        row = result.row
        rows = result.rows or []
        if entry.op == "reorder":
            if isinstance(row, dict):
                self._reconciler.apply_server_row("project_overview", row)
        elif entry.table in SYNCED_TABLES and isinstance(row, dict):
            returned = ops.server_id(entry.table, row)
            if returned is not None and returned != entry.row_id:
                self._reconciler.remap(entry.table, entry.row_id, returned)
            self._reconciler.apply_server_row(entry.table, row)
            self._rebase_later_updates(entry.table, returned or entry.row_id, row)
        for scene in rows:
            self._reconciler.apply_server_row("scene_drafts", scene)
        if entry.op == "reorder":
            for row_id in entry.args.get("ordered_ids", []):
                self._reconciler.rebuild("scene_drafts", str(row_id))

    def _rebase_later_updates(self, table: str, row_id: str, row: dict[str, Any]) -> None:
        version = int(row.get("version") or 0)
        for later in self._storage.get_pending_sync_entries():
            if (
                later.table == table
                and later.row_id == row_id
                and later.op in BASED_OPS
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
        self._storage.update_sync_entry(entry)
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


def _code(code: str | None) -> ErrorCode:
    try:
        return ErrorCode(code or "internal")
    except ValueError:
        return ErrorCode.INTERNAL
