"""A command run in a pseudo-terminal, as a person runs it in theirs: what it shows (escape
sequences removed), keys typed into it, and the processes and ports it leaves behind.

Every wait is bounded and woken by what it waits for (output arriving, a process ending), never
by a fixed pause."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: cursor moves, colours, modes
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: titles, clipboard
    r"|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_=>]"  # charsets and other two-byte escapes
)
CHUNK = 65536


class Terminal:
    """A process whose stdin, stdout and stderr are one pseudo-terminal."""

    def __init__(self, process: subprocess.Popen[bytes], master: int) -> None:
        self.process = process
        self._master = master
        self._output = bytearray()
        self._changed = threading.Condition()
        self._ended = False
        self._reader = threading.Thread(target=self._read, name="terminal reader", daemon=True)
        self._reader.start()

    @classmethod
    @contextmanager
    def spawn(cls, command: list[str], *, cwd: Path, size: tuple[int, int]) -> Iterator[Terminal]:
        """Run ``command`` in a new session on a terminal of ``size`` (columns, rows); ended
        (interrupted, then killed) when the block is left while it still runs."""
        master, slave = pty.openpty()
        columns, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns)}
        env |= {"LINES": str(rows), "PYTHONUNBUFFERED": "1"}
        try:
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave,
                start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(slave)
        terminal = cls(process, master)
        try:
            yield terminal
        finally:
            terminal.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, CHUNK)
            except OSError:  # EIO: every writer of the terminal has closed it
                data = b""
            with self._changed:
                if not data:
                    self._ended = True
                    self._changed.notify_all()
                    return
                self._output += data
                self._changed.notify_all()

    def text(self) -> str:
        """Everything shown so far, without escape sequences."""
        with self._changed:
            raw = bytes(self._output)
        return ESCAPES.sub("", raw.decode(errors="replace"))

    def wait_for(self, text: str, limit: float) -> None:
        """Wait until ``text`` has been shown (fails after ``limit`` seconds, or when the
        terminal closes first, showing the end of the output)."""
        deadline = time.monotonic() + limit
        with self._changed:
            while text not in self.text():
                left = deadline - time.monotonic()
                if self._ended or left <= 0:
                    why = "the terminal closed" if self._ended else f"not shown in {limit:g} s"
                    raise AssertionError(f"{text!r} {why}; it showed:\n{self.text()[-3000:]}")
                self._changed.wait(left)

    def write(self, keys: bytes) -> None:
        """Type ``keys``."""
        os.write(self._master, keys)

    def wait_exit(self, limit: float) -> int:
        """Wait for the process to end, then for the rest of its output; its exit code."""
        code = self.process.wait(timeout=limit)
        self._reader.join(timeout=limit)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        with contextlib.suppress(OSError):
            os.close(self._master)
        self._reader.join(timeout=10)


def descendants(pid: int) -> set[int]:
    """The processes started under ``pid`` (children, theirs, ...) that are running now."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (name) state ppid ...": the name may hold spaces and parentheses.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until_gone(pids: Iterable[int], limit: float) -> None:
    """Wait until every process of ``pids`` has ended (woken by each exit: a pidfd becomes
    readable when its process ends); fails naming those still running after ``limit`` s."""
    deadline = time.monotonic() + limit
    for pid in pids:
        try:
            handle = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([handle], [], [], left)
            if not ready:
                raise AssertionError(f"process {pid} still runs {limit:g} s after the stop")
        finally:
            os.close(handle)
