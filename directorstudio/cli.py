"""The ``directorstudio`` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence

from rich.console import Console

from directorstudio import migrate as migrate_module
from directorstudio import sqlsource
from directorstudio.errors import DirectorStudioError

console = Console(stderr=True)


def _cmd_migrate(args: argparse.Namespace) -> int:
    url = args.database_url or os.environ.get("DATABASE_URL")
    if not url:
        console.print("[red]error:[/] give --database-url or set DATABASE_URL")
        return 2
    bootstrap = None if args.bootstrap == "auto" else args.bootstrap == "yes"
    report = migrate_module.migrate(url, bootstrap=bootstrap)
    if report.bootstrapped:
        console.print("platform bootstrap applied")
    for name in report.applied:
        console.print(f"[green]applied[/] {name}")
    console.print(f"{len(report.applied)} applied, {len(report.skipped)} already up to date")
    return 0


def _cmd_routines_write(args: argparse.Namespace) -> int:
    path = sqlsource.write_routines(new=args.new, now=dt.datetime.now(dt.UTC))
    console.print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="directorstudio", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    migrate_parser = sub.add_parser("migrate", help="apply pending migrations")
    migrate_parser.add_argument("--database-url", help="defaults to $DATABASE_URL")
    migrate_parser.add_argument(
        "--bootstrap",
        choices=["auto", "yes", "no"],
        default="auto",
        help="apply the plain-PostgreSQL platform bootstrap (auto: unless Supabase)",
    )
    migrate_parser.set_defaults(handler=_cmd_migrate)

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


if __name__ == "__main__":
    sys.exit(main())
