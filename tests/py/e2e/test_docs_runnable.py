"""Every block of README.md and docs/stack.md marked runnable works against a started stack and
prints what the documentation says it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import postgres_reachable_dir
from tests.support.docs import DocBlock, missing_output, runnable_blocks
from tests.support.stack_process import ROOT, StackPorts, StackProcess, start_stack

DOCUMENTED_URL = "http://127.0.0.1:54321"
DOCS = [ROOT / "README.md", ROOT / "docs" / "stack.md"]
BLOCKS = [block for path in DOCS for block in runnable_blocks(path)]
RUN_TIMEOUT = 180


@pytest.fixture(scope="module")
def stack() -> Iterator[StackProcess]:
    with postgres_reachable_dir("directorstudio-docs-") as base:
        started = start_stack(base / "stack", StackPorts.free())
        try:
            yield started
        finally:
            started.stop()


def _as_run_against(text: str, stack: StackProcess) -> str:
    return text.replace(DOCUMENTED_URL, stack.url).replace("<anon key>", stack.keys()["anon_key"])


def _run(block: DocBlock, stack: StackProcess, workdir: Path) -> subprocess.CompletedProcess[str]:
    code = _as_run_against(block.code, stack)
    env = {**os.environ, "DIRECTORSTUDIO_DATA_DIR": str(stack.data_dir)}
    if block.language == "python":
        command = [sys.executable, "-c", code]
        cwd = workdir
    elif block.language == "sh":
        command = ["bash", "-euo", "pipefail", "-c", code]
        cwd = ROOT
    else:
        raise AssertionError(f"{block.name}: no runner for {block.language!r} blocks")
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )


def test_the_readme_and_the_stack_guide_mark_their_examples_runnable() -> None:
    languages = sorted(block.language for block in BLOCKS)
    assert languages == ["python", "python", "sh"], [block.name for block in BLOCKS]
    assert all(block.expected for block in BLOCKS), "every runnable block promises an output"


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_a_runnable_block_runs_and_prints_what_the_docs_promise(
    block: DocBlock, stack: StackProcess, tmp_path: Path
) -> None:
    result = _run(block, stack, tmp_path)
    assert result.returncode == 0, f"{block.name} failed:\n{result.stdout}\n{result.stderr}"
    expected = tuple(_as_run_against(line, stack) for line in block.expected)
    missing = missing_output(expected, result.stdout + result.stderr)
    assert missing == [], f"{block.name} did not print {missing}:\n{result.stdout}"
