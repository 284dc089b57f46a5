#!/usr/bin/env bash
# Starts the local stack: installs what is missing (scripts/setup.sh: PostgreSQL 15 server
# binaries from Debian's packages when run as root, a .venv with the project), then runs
# `directorstudio up` (PostgreSQL, the Supabase-compatible API on http://127.0.0.1:54321, the
# HTTP functions with the local render provider, and the schedule). Ctrl-C stops it; the data
# stays in .directorstudio/. Extra arguments go to `directorstudio up` (e.g. --port 8000).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
exec .venv/bin/python -m directorstudio.cli up "$@"
