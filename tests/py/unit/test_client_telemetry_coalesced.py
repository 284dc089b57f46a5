"""Telemetry increments summed inside a ``coalesced`` block: fewer records, the same counts."""

from __future__ import annotations

import threading

import pytest

from directorstudio_client import ManualClock, MemoryStorage
from directorstudio_client.telemetry import TelemetryEmitter
from tests.support.client_network import FlakyNetwork


def buffered(storage: MemoryStorage) -> list[tuple[str, int, int]]:
    _, records = storage.claim_telemetry_batch("00000000-0000-0000-0000-000000000001", 1000)
    return sorted((r.element, r.attempts, r.successes) for r in records)


def emitter() -> tuple[TelemetryEmitter, MemoryStorage]:
    storage = MemoryStorage()
    return TelemetryEmitter(storage, FlakyNetwork(offline=True), ManualClock()), storage


def test_increments_inside_a_block_become_one_record_per_element_with_their_sums():
    telemetry, storage = emitter()
    with telemetry.coalesced():
        for _ in range(5):
            telemetry.emit("create_confirmed")
        telemetry.emit("create_failed")
        telemetry.emit("create_failed")
        telemetry.sync_outcome("confirmed", 3)
        assert buffered(storage) == []  # nothing is written before the block ends
    assert buffered(storage) == [
        ("create_confirmed", 5, 5),
        ("create_failed", 2, 0),
        ("sync_outcome:confirmed", 3, 3),
    ]


def test_outside_a_block_every_increment_is_its_own_record():
    telemetry, storage = emitter()
    telemetry.emit("library_load")
    telemetry.emit("library_load")
    assert buffered(storage) == [("library_load", 1, 1), ("library_load", 1, 1)]


def test_a_nested_block_is_summed_with_the_outer_one():
    telemetry, storage = emitter()
    with telemetry.coalesced():
        telemetry.emit("library_load")
        with telemetry.coalesced():
            telemetry.emit("library_load")
        assert buffered(storage) == []
    assert buffered(storage) == [("library_load", 2, 2)]


def test_increments_of_a_block_that_raised_are_still_buffered():
    telemetry, storage = emitter()

    def settle() -> None:
        with telemetry.coalesced():
            telemetry.emit("conflict_detected")
            raise RuntimeError("settling failed")

    with pytest.raises(RuntimeError):
        settle()
    assert buffered(storage) == [("conflict_detected", 1, 1)]


def test_another_threads_increments_are_not_held_by_this_threads_block():
    telemetry, storage = emitter()
    with telemetry.coalesced():
        worker = threading.Thread(target=lambda: telemetry.emit("project_open"))
        worker.start()
        worker.join()
        telemetry.emit("library_load")
        assert buffered(storage) == [("project_open", 1, 1)]


def test_increments_on_either_side_of_midnight_utc_count_on_their_own_days():
    storage = MemoryStorage()
    clock = ManualClock(start=1_800_057_599.5)  # 23:59:59.5 UTC
    telemetry = TelemetryEmitter(storage, FlakyNetwork(offline=True), clock)
    telemetry.emit("library_load")
    clock.advance(1.0)
    telemetry.emit("library_load")
    _, records = storage.claim_telemetry_batch("00000000-0000-0000-0000-000000000001", 10)
    assert sorted(r.day for r in records) == ["2027-01-15", "2027-01-16"]
