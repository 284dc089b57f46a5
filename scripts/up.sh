#!/usr/bin/env bash
# Starts the local stack and opens the app on it: installs what is missing (scripts/setup.sh:
# PostgreSQL 15 server binaries from Debian's packages when run as root, a .venv with the
# project), starts `directorstudio up` (PostgreSQL, the Supabase-compatible API on
# http://127.0.0.1:54321, the HTTP functions with the local render provider, and the schedule)
# with its log in .directorstudio/stack.log, then runs `directorstudio app` on it in this
# terminal. Quitting the app (Ctrl-Q) stops the stack; the data stays in .directorstudio/.
# --no-app (or no terminal, as in CI) runs the stack alone in the foreground, Ctrl-C stops it.
# Other arguments go to the stack (e.g. --port 8000 --db-port 8001 --data-dir .directorstudio-2).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
args=()
with_app=1
for arg in "$@"; do
    if [[ $arg == --no-app ]]; then with_app=0; else args+=("$arg"); fi
done
if ((with_app)) && [[ -t 0 && -t 1 ]]; then
    exec .venv/bin/python -m directorstudio.cli app --with-stack "${args[@]}"
fi
exec .venv/bin/python -m directorstudio.cli up "${args[@]}"
