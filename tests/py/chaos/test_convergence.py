"""Chaos convergence: seeded operations on several clients through a faulty network, with a
gateway restart, a PostgreSQL restart and a client killed mid-push, end in one state.

Sizes and seed come from CHAOS_CLIENTS, CHAOS_OPS (per client) and CHAOS_SEED; a failure names
the command that replays it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.py.chaos import checks
from tests.py.chaos.driver import ChaosRun, ChaosSettings
from tests.support.chaos_stack import chaos_stack


@pytest.fixture
def work_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="directorstudio-chaos-clients-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _violations(run: ChaosRun) -> list[str]:
    found = list(run.violations)
    found += checks.gateway_error_violations(run.stack.proxy.server_errors)
    with run.stack.admin() as conn:
        for user in run.oracle.users.values():
            server = checks.server_snapshot(conn, user.user_id)
            for device in (d for d in run.devices if d.user_id == user.user_id):
                found += checks.differences(device.name, server, checks.client_snapshot(
                    device.storage, user.user_id))  # fmt: skip
                found += checks.outbox_violations(device.name, device.storage)
            found += checks.oracle_violations(conn, run.oracle, user)
            found += checks.credit_violations(conn, user)
        for process in run.processes:
            storage = process.storage()
            server = checks.server_snapshot(conn, process.user_id)
            found += checks.differences(
                process.name, server, checks.client_snapshot(storage, process.user_id)
            )
            found += checks.outbox_violations(process.name, storage)
            storage.close()
    return found


def test_every_client_and_the_server_converge_on_the_op_log_despite_faults_and_restarts(
    work_dir: Path,
) -> None:
    settings = ChaosSettings.from_env()
    started = time.monotonic()
    with chaos_stack(settings.seed) as stack:
        run = ChaosRun(stack, settings, work_dir)
        try:
            run.open_devices()
            run.run()
            run.settle()
            found = _violations(run)
        finally:
            for device in run.devices:
                device.close()
        summary = run.summary(time.monotonic() - started)
    summary["violations"] = len(found)
    print(f"chaos summary: {json.dumps(summary)}")
    if report := os.environ.get("CHAOS_REPORT"):
        Path(report).write_text(json.dumps({**summary, "found": found}, indent=2))
    assert not found, (
        f"{len(found)} violations with seed {settings.seed}; replay: {settings.replay()}\n"
        + "\n".join(found[:50])
    )
