"""The local stack's commands: ``directorstudio up``, ``keys`` and ``status``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import socket
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from directorstudio.errors import DirectorStudioError, ErrorCode

console = Console(stderr=True)


class PrerequisiteError(DirectorStudioError):
    """Something the command needs is missing or in use."""

    code = ErrorCode.UNAVAILABLE


def require_free_port(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise PrerequisiteError(f"port {port} ({what}) is already in use; choose another")


def up(args: argparse.Namespace) -> int:
    """`directorstudio up`: start the local stack and serve until Ctrl-C."""
    from directorstudio.pgcluster import find_bindir
    from directorstudio.stack.lock import StackLock

    find_bindir()
    require_free_port(args.port, "API")
    lock = StackLock.acquire(Path(args.data_dir))
    try:
        return _run_stack(args)
    finally:
        lock.release()


def _run_stack(args: argparse.Namespace) -> int:
    from directorstudio.stack.stack import LocalStack, StackSettings

    settings = StackSettings(
        data_dir=Path(args.data_dir),
        port=args.port,
        db_port=args.db_port,
    )
    stack = LocalStack(settings)
    if not stack.cluster.initialized() or not stack.cluster.running():
        require_free_port(args.db_port, "PostgreSQL")
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stdout,
    )
    try:
        with console.status("preparing the local stack") as progress:
            keys = stack.prepare(step=lambda text: progress.update(text))

        def ready() -> None:
            _print_keys(
                stack.api_url,
                keys.anon_key,
                keys.service_role_key,
                keys.jwt_secret,
                stack.database_url,
            )
            console.print("[green]ready[/] (Ctrl-C stops the stack)")

        asyncio.run(_serve(stack, ready))
    finally:
        console.print("stopping PostgreSQL")
        stack.shutdown()
    console.print("stopped; all data kept in " + str(stack.data_dir))
    return 0


async def _serve(stack: object, ready: object) -> None:
    from directorstudio.stack.stack import LocalStack

    assert isinstance(stack, LocalStack)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stack.serve(stop, on_ready=ready)  # type: ignore[arg-type]


def _print_keys(
    api_url: str,
    anon: str,
    service: str,
    secret: str,
    database_url: str | None,
    signing_key: str | None = None,
) -> None:
    rows = [
        ("API URL", api_url),
        ("Realtime", api_url.replace("http", "ws", 1) + "/realtime/v1/websocket"),
        ("Database URL", database_url),
        ("anon key", anon),
        ("service_role key", service),
        ("JWT secret", secret),
        ("JWKS URL", f"{api_url}/auth/v1/.well-known/jwks.json"),
        ("signing key", signing_key),
    ]
    # Plain lines, never wrapped or cut, so that every value can be copied whole.
    for label, value in rows:
        if value:
            print(f"{label:<17} {value}", flush=True)


def keys(args: argparse.Namespace) -> int:
    """`directorstudio keys`: the running stack's URLs and keys (plain lines or JSON)."""
    from directorstudio.stack.keys import load
    from directorstudio.stack.state import read_state

    data_dir = Path(args.data_dir)
    keys = load(data_dir)
    if keys is None:
        raise PrerequisiteError(f"no local stack in {data_dir}; run `directorstudio up` first")
    state = read_state(data_dir)
    api_url = state.api_url if state else f"http://127.0.0.1:{args.port}"
    database_url = state.database_url if state else None
    if args.json:
        body: dict[str, object] = {
            "api_url": api_url,
            "anon_key": keys.anon_key,
            "service_role_key": keys.service_role_key,
            "jwt_secret": keys.jwt_secret,
            "webhook_secret": keys.webhook_secret,
            "database_url": database_url,
            "jwks_url": f"{api_url}/auth/v1/.well-known/jwks.json",
            "jwks": keys.jwks,
        }
        if args.show_signing_key:
            body["signing_key"] = keys.signing_key
        print(json.dumps(body, indent=2))
        return 0
    private = json.dumps(keys.signing_key) if args.show_signing_key and keys.signing_key else None
    _print_keys(
        api_url, keys.anon_key, keys.service_role_key, keys.jwt_secret, database_url, private
    )
    return 0


def status(args: argparse.Namespace) -> int:
    """`directorstudio status`: the stack's health (exit 1 when unhealthy)."""
    from directorstudio.stack.status import collect

    report = collect(Path(args.data_dir))
    if args.json:
        body = {
            "healthy": report.healthy,
            "stack": report.stack,
            "api_url": report.api_url,
            "database": report.database,
            "queue": report.queue,
            "users": report.users,
            "problems": report.problems,
        }
        print(json.dumps(body, indent=2, default=str))
        return 0 if report.healthy else 1
    table = Table(title="DirectorStudio local stack", show_header=False)
    table.add_row("stack", report.stack + (f" at {report.api_url}" if report.api_url else ""))
    table.add_row("database", report.database)
    if report.users is not None:
        table.add_row("users", str(report.users))
    for name, value in report.queue.items():
        table.add_row(f"jobs {name.replace('_', ' ')}", "-" if value is None else str(value))
    Console().print(table)
    for problem in report.problems:
        console.print(f"[yellow]![/] {problem}")
    return 0 if report.healthy else 1
