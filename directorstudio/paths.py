"""Where the project's SQL lives."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
MIGRATIONS_DIR = PROJECT_ROOT / "supabase" / "migrations"
SEED_FILE = PROJECT_ROOT / "supabase" / "seed.sql"
FUNCTIONS_SQL_DIR = PROJECT_ROOT / "sql" / "functions"
POLICIES_SQL_DIR = PROJECT_ROOT / "sql" / "policies"
BOOTSTRAP_FILE = PACKAGE_DIR / "platform" / "bootstrap.sql"
