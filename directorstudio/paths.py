"""Where the project's SQL lives: package data, read through importlib.resources.

The SQL stays at the repository root, where the Supabase CLI expects ``supabase/`` and reviewers
expect ``sql/``; ``directorstudio/resources/sql`` and ``directorstudio/resources/supabase`` are
symbolic links to them. An editable install reads the working tree through the links; building
a wheel copies the files they point at into the package (see ``package-data`` in
pyproject.toml), so an installed package carries its migrations, sources, bootstrap and seed.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _package_dir(*parts: str) -> Path:
    found = files("directorstudio").joinpath(*parts)
    if not isinstance(found, Path):  # e.g. a zipped install: SQL must be real files
        raise RuntimeError(f"directorstudio is not installed as files: {found}")
    return found


PACKAGE_DIR = _package_dir()
PROJECT_ROOT = PACKAGE_DIR.parent  # a checkout's root (site-packages for an installed wheel)
RESOURCES_DIR = _package_dir("resources")
MIGRATIONS_DIR = RESOURCES_DIR / "supabase" / "migrations"
SEED_FILE = RESOURCES_DIR / "supabase" / "seed.sql"
FUNCTIONS_SQL_DIR = RESOURCES_DIR / "sql" / "functions"
POLICIES_SQL_DIR = RESOURCES_DIR / "sql" / "policies"
BOOTSTRAP_FILE = PACKAGE_DIR / "platform" / "bootstrap.sql"
