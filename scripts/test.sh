#!/usr/bin/env bash
# Runs every check: installs what is missing, then ruff, mypy, sqlfluff, `routines check` (sql/
# against the migrations) and the whole test suite
# (pgTAP files and pytest layers) against a PostgreSQL the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
source .venv/bin/activate

echo "== ruff"
ruff check .
ruff format --check .
echo "== mypy"
mypy
echo "== sqlfluff"
sqlfluff lint --processes 2 sql supabase tests/sql directorstudio/platform
echo "== routines"
directorstudio routines check
echo "== tests"
python -m pytest "$@"
if (($# == 0)); then
    echo "== bench (quick)"
    directorstudio bench --quick
fi
