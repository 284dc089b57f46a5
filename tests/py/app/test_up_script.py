"""``scripts/up.sh`` in a terminal: it starts the local stack and opens the app on it; quitting
the app stops the stack (no port open, no process left) and keeps its data."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from directorstudio.pgcluster import find_bindir, free_port
from directorstudio.stack.stack import cluster_dir
from tests.support.app_terminal import (
    Terminal,
    descendants,
    port_open,
    wait_until_gone,
)
from tests.support.cluster import postgres_reachable_dir
from tests.support.stack_process import ROOT

START_LIMIT = 240.0  # setup.sh, then the stack's first start (a new cluster, every migration)
STOP_LIMIT = 90.0
FIRST_SCREEN = "Continue without an account"
CTRL_Q = b"\x11"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with postgres_reachable_dir("directorstudio-up-") as base:
        yield base / "stack"


def _cluster_state(cluster: Path) -> str:
    command = [str(find_bindir() / "pg_controldata"), str(cluster)]
    shown = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)
    line = next(x for x in shown.stdout.splitlines() if x.startswith("Database cluster state"))
    return line.split(":", 1)[1].strip()


def test_up_opens_the_app_on_the_stack_and_quitting_it_stops_the_stack_keeping_the_data(
    data_dir: Path,
) -> None:
    api, db = free_port(), free_port()
    command = ["bash", "scripts/up.sh", "--port", str(api), "--db-port", str(db)]
    command += ["--data-dir", str(data_dir)]
    with Terminal.spawn(command, cwd=ROOT, size=(100, 30)) as terminal:
        terminal.wait_for(FIRST_SCREEN, START_LIMIT)
        assert port_open(api)
        assert port_open(db)
        cluster = cluster_dir(data_dir) / "data"
        postmaster = int((cluster / "postmaster.pid").read_text().split()[0])
        started = {*descendants(terminal.pid), postmaster}

        terminal.write(CTRL_Q)
        code = terminal.wait_exit(STOP_LIMIT)
        shown = terminal.text()

    assert code == 0, shown[-2000:]
    assert f"all data kept in {data_dir}" in shown
    assert not port_open(api)
    assert not port_open(db)
    wait_until_gone(started, STOP_LIMIT)
    assert not (cluster / "postmaster.pid").exists()
    assert _cluster_state(cluster) == "shut down"  # a clean stop: every commit is on disk
    assert (data_dir / "keys.json").is_file()
    assert "ready" in (data_dir / "stack.log").read_text()


def test_up_runs_the_stack_alone_without_a_terminal_or_with_no_app() -> None:
    # --help shows which command up.sh runs, without starting anything (with the app it would
    # be ``directorstudio app``'s).
    piped = subprocess.run(
        ["bash", "scripts/up.sh", "--help"], cwd=ROOT, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, check=True, timeout=START_LIMIT,
    )  # fmt: skip
    assert piped.stdout.startswith("usage: directorstudio up ")
    command = ["bash", "scripts/up.sh", "--no-app", "--help"]
    with Terminal.spawn(command, cwd=ROOT, size=(100, 30)) as terminal:
        assert terminal.wait_exit(START_LIMIT) == 0
        assert "usage: directorstudio up " in terminal.text()
