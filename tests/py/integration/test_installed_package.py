"""The wheel carries the SQL: installed outside the checkout, it migrates a fresh database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from directorstudio import paths
from directorstudio.migrate import migration_files
from tests.support.cluster import Server

# What a wheel is built from (a copy keeps build output out of the checkout).
WHEEL_INPUTS = ("pyproject.toml", "README.md", "directorstudio", "client", "sql", "supabase")
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".temp", ".branches")


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture
def fresh_database(pg_server: Server) -> Iterator[str]:
    janitor = pg_server.janitor("ds_installed_package")
    janitor.init()
    try:
        yield pg_server.url("ds_installed_package")
    finally:
        janitor.drop()


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """A fresh virtual environment holding the wheel; its dependencies come from this one's."""
    source = tmp_path / "source"
    source.mkdir()
    for name in WHEEL_INPUTS:
        origin = paths.PROJECT_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, symlinks=True, ignore=IGNORED)
        else:
            shutil.copy2(origin, source / name)
    wheels = tmp_path / "wheels"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "-q")
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, source, cwd=tmp_path)
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    wheel = next(wheels.glob("directorstudio-*.whl"))
    _run(*pip, "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    site = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
    )
    # After the install, so that pip does not mistake this checkout's editable install for it.
    (Path(site.strip()) / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    shutil.rmtree(source)
    return venv


def test_the_installed_wheel_migrates_a_fresh_database_from_outside_the_checkout(
    installed: Path, fresh_database: str, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL")}
    where = _run(
        installed / "bin" / "python",
        "-c",
        "from directorstudio import paths; print(paths.MIGRATIONS_DIR)",
        cwd=elsewhere,
        env=env,
    )
    assert Path(where.strip()).is_relative_to(installed)

    output = _run(
        installed / "bin" / "directorstudio",
        "migrate",
        "--database-url",
        fresh_database,
        cwd=elsewhere,
        env=env,
    )
    assert "platform bootstrap applied" in output
    with psycopg.connect(fresh_database) as conn:
        versions = [
            row[0]
            for row in conn.execute(
                "SELECT version FROM supabase_migrations.schema_migrations ORDER BY 1"
            )
        ]
        functions = conn.execute(
            "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
        ).fetchone()
    assert versions == [p.name.split("_", 1)[0] for p in migration_files()]
    assert functions is not None
    assert functions[0] > 0


def test_a_checkout_reads_the_sql_of_its_working_tree() -> None:
    root = Path(__file__).resolve().parents[3]
    assert paths.MIGRATIONS_DIR.resolve() == root / "supabase" / "migrations"
    assert paths.FUNCTIONS_SQL_DIR.resolve() == root / "sql" / "functions"
    assert paths.SEED_FILE.resolve() == root / "supabase" / "seed.sql"
