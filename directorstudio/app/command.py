"""``directorstudio app``: the app in this terminal, in a browser (``--web``), or with the local
stack started under it (``--with-stack``, what ``scripts/up.sh`` runs)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from directorstudio.app.config import resolve

WEB_PORT = 8000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``directorstudio app`` (``--data-dir`` is added by the CLI)."""
    parser.add_argument("--url", help="the API URL (default: the local stack's)")
    parser.add_argument("--anon-key", help="the anon key (default: the local stack's)")
    parser.add_argument("--email", help="sign in with this email (asks for the password)")
    parser.add_argument(
        "--cache-dir", help="where the cache and the downloaded clips go (default: <data-dir>/app)"
    )
    parser.add_argument("--web", action="store_true", help="serve the app in a browser")
    parser.add_argument("--host", default="127.0.0.1", help="with --web: the address to serve on")
    parser.add_argument(
        "--web-port", type=int, default=WEB_PORT, help="with --web: the port to serve on"
    )
    parser.add_argument(
        "--with-stack",
        action="store_true",
        help="start the local stack first and stop it when the app ends (scripts/up.sh)",
    )
    parser.add_argument("--port", type=int, default=54321, help="with --with-stack: API port")
    parser.add_argument(
        "--db-port", type=int, default=54322, help="with --with-stack: PostgreSQL port"
    )


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    data_dir = Path(args.data_dir)
    if args.with_stack:
        from directorstudio.app.launch import run_with_stack

        return run_with_stack(
            data_dir, port=args.port, db_port=args.db_port, app_args=_app_args(args)
        )
    config = resolve(
        url=args.url,
        anon_key=args.anon_key,
        data_dir=data_dir,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        email=args.email,
    )
    if args.web:
        from directorstudio.app.web import serve

        command = [
            sys.executable, "-m", "directorstudio.cli", "app", "--url", config.url,
            "--anon-key", config.anon_key, "--cache-dir", str(config.cache_dir.resolve()),
            "--data-dir", str(data_dir.resolve()),
        ]  # fmt: skip
        if config.email:
            command += ["--email", config.email]
        serve(shlex.join(command), host=args.host, port=args.web_port)
        return 0
    from directorstudio.app.main import DirectorStudioApp

    DirectorStudioApp(config).run()
    return 0


def _app_args(args: argparse.Namespace) -> list[str]:
    extra: list[str] = []
    for option in ("email", "cache_dir"):
        value = getattr(args, option)
        if value:
            extra += [f"--{option.replace('_', '-')}", str(value)]
    return extra
