"""A PostgreSQL server started from the local binaries, root-safe.

PostgreSQL refuses to run as root, so when this process is root every server command runs as
the unprivileged ``postgres`` OS user and the data directory is owned by that user. For a normal
user the commands run directly.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from directorstudio.errors import DirectorStudioError, ErrorCode

SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "128MB",
}

SCRAM_HBA_RULES = """\
# Written by directorstudio: the OS user of the server on the socket, a password over TCP.
local all all peer
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""

INSTALL_HINT = (
    "PostgreSQL server binaries were not found. On Debian/Ubuntu: "
    "apt-get install -y postgresql-15 (or set PG_BINDIR to the folder holding pg_ctl)."
)


class ClusterError(DirectorStudioError):
    """The local PostgreSQL server could not be prepared or started."""

    code = ErrorCode.UNAVAILABLE


def find_bindir() -> Path:
    """Locate the folder holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    candidates: list[Path] = []
    if env := os.environ.get("PG_BINDIR"):
        candidates.append(Path(env))
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if out:
            candidates.append(Path(out))
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    for candidate in candidates:
        if (candidate / "pg_ctl").exists() and (candidate / "initdb").exists():
            return candidate
    raise ClusterError(INSTALL_HINT)


def pg_cron_installed() -> bool:
    """Whether the server binaries have pg_cron beside them (Debian: ``postgresql-15-cron``)."""
    try:
        libdir = find_bindir().parent / "lib"
    except ClusterError:
        return False
    return (libdir / "pg_cron.so").exists()


def pg_cron_settings(database: str, host: str = "127.0.0.1") -> dict[str, str]:
    """Server settings that preload pg_cron and let it run jobs of ``database``.

    pg_cron reads its jobs from one database per server and runs each over a connection to
    ``host`` as the job's user: loopback where local connections are trusted, the server's
    socket folder (peer authentication) where TCP needs a password.
    """
    return {
        "shared_preload_libraries": "pg_cron",
        "cron.database_name": database,
        "cron.host": host,
    }


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _running_as_root() -> bool:
    return os.geteuid() == 0


@dataclass
class LocalCluster:
    """A PostgreSQL cluster in ``data_dir``, listening on 127.0.0.1:``port``.

    With a ``password``, connections over TCP need it (scram-sha-256) and the Unix socket admits
    only the server's own OS user (peer); without one (throwaway test clusters) every local
    connection is trusted.
    """

    base_dir: Path
    port: int
    superuser: str = "postgres"
    password: str | None = None

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        auth = self.superuser
        if self.password is not None:
            auth += ":" + quote(self.password, safe="")
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    @property
    def hba_file(self) -> Path:
        return self.data_dir / "pg_hba.conf"

    def _run(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if _running_as_root():
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ClusterError(
                f"{Path(args[0]).name} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )
        return result

    def _prepare_dirs(self) -> None:
        for path in (self.base_dir, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
        if _running_as_root():
            shutil.chown(self.base_dir, "postgres")
            shutil.chown(self.socket_dir, "postgres")
            self.base_dir.chmod(0o700)

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster unless it exists."""
        self._prepare_dirs()
        if self.initialized():
            return
        bindir = find_bindir()
        command = [
            str(bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            self.superuser,
            "--encoding=UTF8",
            "--no-sync",
        ]
        if self.password is None:
            self._run([*command, "--auth=trust"])
            return
        password_file = self.base_dir / "initdb.pw"
        password_file.write_text(self.password + "\n")
        if _running_as_root():
            shutil.chown(password_file, "postgres")
        password_file.chmod(0o600)
        try:
            self._run(
                [
                    *command,
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={password_file}",
                ]
            )
        finally:
            password_file.unlink(missing_ok=True)
        self.hba_file.write_text(SCRAM_HBA_RULES)

    def require_password(self) -> None:
        """Make a running cluster created without a password (an older release's) require it.

        Sets the superuser's password over the still-trusted TCP connection, then rewrites
        ``pg_hba.conf`` (peer on the socket, scram-sha-256 over TCP) and reloads.
        """
        if self.password is None or self.hba_file.read_text() == SCRAM_HBA_RULES:
            return
        trusted = f"postgresql://{self.superuser}@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(trusted, autocommit=True) as conn:
            conn.execute("SET password_encryption = 'scram-sha-256'")
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(self.superuser), sql.Literal(self.password)
                )
            )
            self.hba_file.write_text(SCRAM_HBA_RULES)
            conn.execute("SELECT pg_reload_conf()")

    def running(self) -> bool:
        bindir = find_bindir()
        command = [str(bindir / "pg_ctl"), "status", "-D", str(self.data_dir)]
        if _running_as_root():
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, check=False).returncode == 0

    def start(self, settings: dict[str, str] | None = None) -> None:
        """Start the server and wait until it accepts connections."""
        self.init()
        if self.running():
            return
        options = {**SERVER_SETTINGS, **(settings or {})}
        option_text = " ".join(f"-c {key}={value}" for key, value in options.items())
        bindir = find_bindir()
        self._run(
            [
                str(bindir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                f"-p {self.port} -h 127.0.0.1 -k {self.socket_dir} {option_text}",
            ]
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise ClusterError(f"PostgreSQL did not accept connections on port {self.port}")

    def stop(self) -> None:
        """Stop the server (fast shutdown: committed data is kept)."""
        if not self.initialized() or not self.running():
            return
        bindir = find_bindir()
        self._run([str(bindir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])
