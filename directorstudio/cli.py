"""The ``directorstudio`` command line."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from directorstudio import migrate as migrate_module
from directorstudio import sqlsource
from directorstudio.errors import DirectorStudioError, ErrorCode

console = Console(stderr=True)
DEFAULT_DATA_DIR = ".directorstudio"


class PrerequisiteError(DirectorStudioError):
    """Something the command needs is missing or in use."""

    code = ErrorCode.UNAVAILABLE


def _stack_database_url(data_dir: str) -> str | None:
    from directorstudio.stack.state import read_state

    state = read_state(Path(data_dir))
    return state.database_url if state else None


def _cmd_migrate(args: argparse.Namespace) -> int:
    url = args.database_url or os.environ.get("DATABASE_URL") or _stack_database_url(args.data_dir)
    if not url:
        console.print("[red]error:[/] give --database-url, set DATABASE_URL or start the stack")
        return 2
    bootstrap = None if args.bootstrap == "auto" else args.bootstrap == "yes"
    report = migrate_module.migrate(url, bootstrap=bootstrap)
    if report.bootstrapped:
        console.print("platform bootstrap applied")
    for name in report.applied:
        console.print(f"[green]applied[/] {name}")
    console.print(f"{len(report.applied)} applied, {len(report.skipped)} already up to date")
    return 0


def _cmd_seed(args: argparse.Namespace) -> int:
    from directorstudio.stack.stack import apply_seed

    url = args.database_url or os.environ.get("DATABASE_URL") or _stack_database_url(args.data_dir)
    if not url:
        console.print("[red]error:[/] give --database-url, set DATABASE_URL or start the stack")
        return 2
    apply_seed(url)
    console.print("[green]seed applied[/]: demo@directorstudio.local with the sample project")
    return 0


def _cmd_routines_write(args: argparse.Namespace) -> int:
    path = sqlsource.write_routines(new=args.new, now=dt.datetime.now(dt.UTC))
    console.print(f"wrote {path}")
    return 0


def _require_free_port(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise PrerequisiteError(f"port {port} ({what}) is already in use; choose another")


def _cmd_up(args: argparse.Namespace) -> int:
    from directorstudio.pgcluster import find_bindir
    from directorstudio.stack.stack import LocalStack, StackSettings

    find_bindir()
    _require_free_port(args.port, "API")
    settings = StackSettings(
        data_dir=Path(args.data_dir),
        port=args.port,
        db_port=args.db_port,
        rollup_interval=args.rollup_interval,
    )
    stack = LocalStack(settings)
    if not stack.cluster.initialized() or not stack.cluster.running():
        _require_free_port(args.db_port, "PostgreSQL")
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
    api_url: str, anon: str, service: str, secret: str, database_url: str | None
) -> None:
    rows = [
        ("API URL", api_url),
        ("Realtime", api_url.replace("http", "ws", 1) + "/realtime/v1/websocket"),
        ("Database URL", database_url),
        ("anon key", anon),
        ("service_role key", service),
        ("JWT secret", secret),
    ]
    # Plain lines, never wrapped or cut, so that every value can be copied whole.
    for label, value in rows:
        if value:
            print(f"{label:<17} {value}", flush=True)


def _cmd_keys(args: argparse.Namespace) -> int:
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
        body = {
            "api_url": api_url,
            "anon_key": keys.anon_key,
            "service_role_key": keys.service_role_key,
            "jwt_secret": keys.jwt_secret,
            "webhook_secret": keys.webhook_secret,
            "database_url": database_url,
        }
        print(json.dumps(body, indent=2))
        return 0
    _print_keys(api_url, keys.anon_key, keys.service_role_key, keys.jwt_secret, database_url)
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="directorstudio", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def data_dir_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--data-dir", default=DEFAULT_DATA_DIR, help="the local stack's folder"
        )

    up = sub.add_parser("up", help="start the local stack (PostgreSQL, API gateway, functions)")
    up.add_argument("--port", type=int, default=54321, help="API gateway port")
    up.add_argument("--db-port", type=int, default=54322, help="PostgreSQL port")
    up.add_argument(
        "--rollup-interval", type=float, default=300.0, help="seconds between rollup runs"
    )
    data_dir_option(up)
    up.set_defaults(handler=_cmd_up)

    migrate_parser = sub.add_parser("migrate", help="apply pending migrations")
    migrate_parser.add_argument(
        "--database-url", help="defaults to $DATABASE_URL, then the running local stack"
    )
    migrate_parser.add_argument(
        "--bootstrap",
        choices=["auto", "yes", "no"],
        default="auto",
        help="apply the plain-PostgreSQL platform bootstrap (auto: unless Supabase)",
    )
    data_dir_option(migrate_parser)
    migrate_parser.set_defaults(handler=_cmd_migrate)

    seed = sub.add_parser("seed", help="apply supabase/seed.sql (demo user, sample project)")
    seed.add_argument(
        "--database-url", help="defaults to $DATABASE_URL, then the running local stack"
    )
    data_dir_option(seed)
    seed.set_defaults(handler=_cmd_seed)

    status = sub.add_parser("status", help="health of the stack, database, queue and jobs")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    data_dir_option(status)
    status.set_defaults(handler=_cmd_status)

    keys = sub.add_parser("keys", help="URL, anon key, service key and JWT secret")
    keys.add_argument("--json", action="store_true", help="machine-readable output")
    keys.add_argument("--port", type=int, default=54321, help="API port when not running")
    data_dir_option(keys)
    keys.set_defaults(handler=_cmd_keys)

    routines = sub.add_parser("routines", help="keep routines migrations in step with sql/")
    routines_sub = routines.add_subparsers(dest="routines_command", required=True)
    write = routines_sub.add_parser("write", help="rewrite the newest routines migration")
    write.add_argument("--new", action="store_true", help="start a new routines migration")
    write.set_defaults(handler=_cmd_routines_write)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except DirectorStudioError as error:
        console.print(f"[red]error ({error.code}):[/] {error}")
        return 1
    except psycopg.Error as error:
        console.print(f"[red]database error:[/] {str(error).strip()}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
