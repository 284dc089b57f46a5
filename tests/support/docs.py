"""The blocks of the documentation marked runnable, and the output each one promises.

A fenced block right after a ``<!-- runnable -->`` line is run by the docs test; a fenced block
after a following ``<!-- output -->`` line (prose may stand between them, but no other block
or heading) lists what it must print: each line, with
white space and table borders folded, must appear in order, and ``<anything>`` in angle
brackets stands for any text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

RUNNABLE = "<!-- runnable -->"
OUTPUT = "<!-- output -->"
FENCE = re.compile(r"^```(\w*)\s*$")
PLACEHOLDER = re.compile(r"<[^<>]+>")
BORDERS = re.compile(r"[│┃┌┐└┘├┤┬┴┼─━┏┓┗┛┡┩╇╋═║╔╗╚╝]")


@dataclass(frozen=True)
class DocBlock:
    """One runnable block: where it is, its language and code, the output it promises."""

    path: Path
    line: int
    language: str
    code: str
    expected: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.path.name}:{self.line}"


def _fenced(lines: list[str], start: int) -> tuple[str, list[str], int]:
    """The fenced block opening at ``start``: its language, its lines, the index after it."""
    match = FENCE.match(lines[start])
    if not match:
        raise ValueError(f"line {start + 1}: a marker must be followed by a fenced block")
    body: list[str] = []
    index = start + 1
    while not lines[index].startswith("```"):
        body.append(lines[index])
        index += 1
    return match.group(1), body, index + 1


def _next_content(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _output_marker(lines: list[str], index: int) -> int | None:
    """The index of the output marker belonging to the block that ended before ``index``."""
    while index < len(lines):
        line = lines[index].strip()
        if line == OUTPUT:
            return index
        if line.startswith(("```", "#")) or line == RUNNABLE:
            return None
        index += 1
    return None


def runnable_blocks(path: Path) -> list[DocBlock]:
    """Every block of ``path`` marked runnable, with its promised output."""
    lines = path.read_text().splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != RUNNABLE:
            index += 1
            continue
        start = _next_content(lines, index + 1)
        language, body, index = _fenced(lines, start)
        expected: list[str] = []
        marker = _output_marker(lines, index)
        if marker is not None:
            _, expected, index = _fenced(lines, _next_content(lines, marker + 1))
        blocks.append(DocBlock(path, start + 1, language, "\n".join(body) + "\n", tuple(expected)))
    return blocks


def fold(text: str) -> str:
    """``text`` with table borders removed and runs of white space made one space."""
    return " ".join(BORDERS.sub(" ", text).split())


def _pattern(line: str) -> re.Pattern[str]:
    parts = PLACEHOLDER.split(fold(line))
    return re.compile(".+?".join(re.escape(part) for part in parts))


def missing_output(expected: tuple[str, ...], output: str) -> list[str]:
    """The promised lines not found, in order, in the real output (empty when all are)."""
    printed = [fold(line) for line in output.splitlines()]
    missing = []
    position = 0
    for line in expected:
        pattern = _pattern(line)
        found = next((i for i in range(position, len(printed)) if pattern.search(printed[i])), None)
        if found is None:
            missing.append(line)
        else:
            position = found + 1
    return missing
