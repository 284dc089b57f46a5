"""The ``directorstudio`` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import psycopg
from rich.console import Console

from directorstudio import migrate as migrate_module
from directorstudio import sqlsource
from directorstudio.errors import DirectorStudioError

console = Console(stderr=True)
DEFAULT_DATA_DIR = ".directorstudio"


def _stack_database_url(data_dir: str) -> str | None:
    from directorstudio.stack.state import read_state

    state = read_state(Path(data_dir))
    return state.database_url if state else None


def _database_url(args: argparse.Namespace) -> str | None:
    """``--database-url``, else ``DATABASE_URL``, else the running stack's database; ``None``
    (and the error said) when there is none."""
    url = args.database_url or os.environ.get("DATABASE_URL") or _stack_database_url(args.data_dir)
    if not url:
        console.print("[red]error:[/] give --database-url, set DATABASE_URL or start the stack")
        return None
    return str(url)


def _cmd_migrate(args: argparse.Namespace) -> int:
    url = _database_url(args)
    if url is None:
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

    url = _database_url(args)
    if url is None:
        return 2
    apply_seed(url)
    console.print("[green]seed applied[/]: demo@directorstudio.local with the sample project")
    return 0


def _routines_layout(args: argparse.Namespace) -> sqlsource.Layout:
    layout = sqlsource.Layout()
    if args.sql_dir:
        sql_dir = Path(args.sql_dir)
        layout = sqlsource.Layout(
            sql_dir / "functions", sql_dir / "policies", layout.migrations_dir
        )
    if args.migrations_dir:
        layout = sqlsource.Layout(
            layout.functions_dir, layout.policies_dir, Path(args.migrations_dir)
        )
    return layout


def _cmd_routines_write(args: argparse.Namespace) -> int:
    path, plan = sqlsource.write_routines(
        now=dt.datetime.now(dt.UTC), layout=_routines_layout(args), scratch_url=args.scratch_url
    )
    if path is None:
        console.print("sources and migrations agree: nothing to write")
        return 0
    for line in plan.differences:
        console.print(f"  {line}", soft_wrap=True)
    console.print(f"wrote {path} ({len(plan.statements)} statements)")
    return 0


def _cmd_routines_check(args: argparse.Namespace) -> int:
    found = sqlsource.run_check(layout=_routines_layout(args), scratch_url=args.scratch_url)
    for line in found:
        console.print(f"[red]differs[/] {line}", soft_wrap=True)
    if found:
        console.print(f"{len(found)} differences: run `directorstudio routines write`")
        return 1
    console.print("sources and migrations agree")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from directorstudio.ops.check import run_check

    url = _database_url(args)
    if url is None:
        return 2
    report = run_check(url)
    if args.json:
        print(report.as_json())
    else:
        report.print(Console(), console)
    return 0 if report.passed else 1


def _cmd_bench(args: argparse.Namespace) -> int:
    from directorstudio.bench import BenchOptions, runner

    options = BenchOptions(quick=args.quick)
    suites = runner.select(runner.discover(), args.suite)
    rows = runner.run(suites, options)
    runner.render(rows, Console(width=None if sys.stdout.isatty() else 160))
    if args.json:
        runner.write_json(rows, Path(args.json))
    return runner.verdict(rows, options)


def _cmd_errors_write(args: argparse.Namespace) -> int:
    from directorstudio import error_table

    for path in error_table.write():
        console.print(f"wrote {path}")
    return 0


def _cmd_rollout_status(args: argparse.Namespace) -> int:
    from directorstudio.ops import rollout

    url = _database_url(args)
    if url is None:
        return 2
    status = rollout.rollout_status(url, args.since, args.min_samples)
    if args.json:
        print(json.dumps(status.to_json(), indent=2, default=str))
    else:
        Console().print(rollout.render(status))
    return status.exit_code


def _cmd_smoke(args: argparse.Namespace) -> int:
    from directorstudio.ops import smoke

    report = smoke.run_smoke(smoke.SmokeTarget(args.url, args.anon_key, args.service_key))
    Console(width=max(Console().width, 140)).print(smoke.render(report))
    return report.exit_code


def _cmd_app(args: argparse.Namespace) -> int:
    from directorstudio.app.command import run

    return run(args)


def _cmd_up(args: argparse.Namespace) -> int:
    from directorstudio.stack.commands import up

    return up(args)


def _cmd_keys(args: argparse.Namespace) -> int:
    from directorstudio.stack.commands import keys

    return keys(args)


def _cmd_status(args: argparse.Namespace) -> int:
    from directorstudio.stack.commands import status

    return status(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="directorstudio", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def data_dir_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--data-dir",
            default=os.environ.get("DIRECTORSTUDIO_DATA_DIR", DEFAULT_DATA_DIR),
            help="the local stack's folder (default: $DIRECTORSTUDIO_DATA_DIR or .directorstudio)",
        )

    up = sub.add_parser("up", help="start the local stack (PostgreSQL, API gateway, functions)")
    up.add_argument("--port", type=int, default=54321, help="API gateway port")
    up.add_argument("--db-port", type=int, default=54322, help="PostgreSQL port")
    data_dir_option(up)
    up.set_defaults(handler=_cmd_up)

    from directorstudio.app.command import add_arguments as app_arguments

    app = sub.add_parser("app", help="the DirectorStudio app in this terminal (--web: a browser)")
    app_arguments(app)
    data_dir_option(app)
    app.set_defaults(handler=_cmd_app)

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

    check = sub.add_parser("check", help="migration integrity, catalog and foreign key checks")
    check.add_argument(
        "--database-url", help="defaults to $DATABASE_URL, then the running local stack"
    )
    check.add_argument("--json", action="store_true", help="machine-readable findings")
    data_dir_option(check)
    check.set_defaults(handler=_cmd_check)

    status = sub.add_parser("status", help="health of the stack, database, queue and jobs")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    data_dir_option(status)
    status.set_defaults(handler=_cmd_status)

    keys = sub.add_parser("keys", help="URL, anon key, service key and JWT secret")
    keys.add_argument("--json", action="store_true", help="machine-readable output")
    keys.add_argument("--port", type=int, default=54321, help="API port when not running")
    keys.add_argument(
        "--show-signing-key",
        action="store_true",
        help="also print the private JWK that signs access tokens (never shown otherwise)",
    )
    data_dir_option(keys)
    keys.set_defaults(handler=_cmd_keys)

    rollout = sub.add_parser("rollout", help="canary release health")
    rollout_sub = rollout.add_subparsers(dest="rollout_command", required=True)
    rollout_status = rollout_sub.add_parser(
        "status", help="sync failure rate and median create-to-confirm per channel; 0 = go"
    )
    rollout_status.add_argument(
        "--database-url", help="defaults to $DATABASE_URL, then the running local stack"
    )
    rollout_status.add_argument("--since", type=int, default=7, help="days back, today included")
    rollout_status.add_argument(
        "--min-samples", type=int, default=100, help="canary samples needed for a verdict"
    )
    rollout_status.add_argument("--json", action="store_true", help="machine-readable output")
    data_dir_option(rollout_status)
    rollout_status.set_defaults(handler=_cmd_rollout_status)

    smoke_parser = sub.add_parser(
        "smoke", help="the rollout checklist's smoke test against a deployment; 0 = all passed"
    )
    smoke_parser.add_argument("--url", required=True, help="the API URL")
    smoke_parser.add_argument("--anon-key", required=True, help="the anon (publishable) key")
    smoke_parser.add_argument(
        "--service-key", help="service_role key: removes the test user and its data afterwards"
    )
    smoke_parser.set_defaults(handler=_cmd_smoke)

    routines = sub.add_parser("routines", help="keep routines migrations in step with sql/")
    routines_sub = routines.add_subparsers(dest="routines_command", required=True)
    write = routines_sub.add_parser("write", help="write a migration with what sql/ changed")
    write.set_defaults(handler=_cmd_routines_write)
    check = routines_sub.add_parser("check", help="fail when sql/ and the migrations differ")
    check.set_defaults(handler=_cmd_routines_check)
    for command in (write, check):
        command.add_argument(
            "--scratch-url",
            help="superuser URL of a server for scratch databases (default: start one)",
        )
        command.add_argument("--sql-dir", help="the sources' folder (default: the package's)")
        command.add_argument("--migrations-dir", help="default: the package's migrations")

    bench = sub.add_parser("bench", help="measure the speed targets next to their baselines")
    bench.add_argument("--quick", action="store_true", help="small sizes; fail only on errors")
    bench.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    bench.add_argument("suite", nargs="*", help="suites to run (default: all)")
    bench.set_defaults(handler=_cmd_bench)

    errors = sub.add_parser("errors", help="the error table and what is generated from it")
    errors_sub = errors.add_subparsers(dest="errors_command", required=True)
    errors_write = errors_sub.add_parser(
        "write", help="rewrite sql/functions/00_errors.sql and README's error tables"
    )
    errors_write.set_defaults(handler=_cmd_errors_write)
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
