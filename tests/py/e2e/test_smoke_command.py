"""``directorstudio smoke`` as an operator runs it: a subprocess against a started local stack.

Every step passes and the test user is removed with the service key; without the service key the
user is left in place and the clean-up is skipped; a wrong anon key fails at the sign-up step
with a non-zero exit code.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack_process import ROOT, StackPorts, StackProcess, start_stack

STEPS = (
    "sign up",
    "library renders",
    "create project",
    "create scene",
    "submit clip",
    "clip completed",
    "telemetry",
    "clean up",
)


@pytest.fixture(scope="module")
def stack() -> Iterator[StackProcess]:
    # Not pytest's tmp_path: when run as root, the postgres OS user must reach this folder.
    base = Path(tempfile.mkdtemp(prefix="directorstudio-smoke-command-"))
    base.chmod(0o755)
    started = start_stack(base / "stack", StackPorts.free())
    try:
        yield started
    finally:
        assert started.stop() == 0, started.log.read_text()
        shutil.rmtree(base, ignore_errors=True)


def smoke(stack: StackProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "directorstudio.cli", "smoke", "--url", stack.url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def users(stack: StackProcess) -> int:
    status = stack.cli("status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    return int(json.loads(status.stdout)["users"])


def row_of(output: str, step: str) -> str:
    """The table row of ``step`` (its first line)."""
    return next(line for line in output.splitlines() if line.startswith(f"│ {step} "))


def test_every_smoke_step_passes_against_the_local_stack_and_the_test_user_is_removed(
    stack: StackProcess,
) -> None:
    keys = stack.keys()
    before = users(stack)
    result = smoke(stack, "--anon-key", keys["anon_key"], "--service-key", keys["service_role_key"])
    assert result.returncode == 0, result.stdout + result.stderr
    for step in STEPS:
        row = row_of(result.stdout, step)
        assert " ok " in row, row
        assert int(row.split("│")[2]) >= 0
    assert "seen through realtime" in result.stdout
    assert "smoke passed" in result.stdout
    assert users(stack) == before


def test_without_the_service_key_the_clean_up_is_skipped_and_the_user_stays(
    stack: StackProcess,
) -> None:
    before = users(stack)
    result = smoke(stack, "--anon-key", stack.keys()["anon_key"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert " skipped " in row_of(result.stdout, "clean up")
    assert "no --service-key" in result.stdout
    assert users(stack) == before + 1


def test_a_wrong_anon_key_fails_the_sign_up_step_with_a_non_zero_exit(
    stack: StackProcess,
) -> None:
    result = smoke(stack, "--anon-key", "not-the-anon-key")
    assert result.returncode == 1, result.stdout + result.stderr
    assert " failed " in row_of(result.stdout, "sign up")
    assert "Invalid API key" in result.stdout
    assert " skipped " in row_of(result.stdout, "telemetry")
    assert "smoke failed at: sign up" in result.stdout
