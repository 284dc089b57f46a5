#!/usr/bin/env bash
# Installs what the project needs on a Debian/Ubuntu machine: PostgreSQL 15 server binaries,
# pgTAP, pg_cron, plpgsql_check and psql (system packages, only when missing), then a virtual
# environment in .venv with the project and its development dependencies, then the npm tools the
# tests drive (the Supabase CLI, supabase-js) in .tools/.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
    postgresql-15 postgresql-client-15 postgresql-15-pgtap pgtap postgresql-15-cron
    postgresql-15-plpgsql-check
)
command -v npm >/dev/null 2>&1 || SYSTEM_PACKAGES+=(nodejs npm)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        echo "installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "missing system packages: ${missing[*]} (install them with apt-get as root)" >&2
        exit 1
    fi
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
# Installed again only when pyproject.toml changed since the last install into this .venv (the
# project is installed editable, so changed sources need no install).
if ! cmp -s pyproject.toml .venv/.installed-pyproject.toml; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
    cp pyproject.toml .venv/.installed-pyproject.toml
fi

# npm tools, pinned: the Supabase CLI (its binary ships inside the npm package) and supabase-js
# (the contract tests drive it with node).
if [[ ! -x .tools/node_modules/.bin/supabase ]] || ! cmp -s tools/package.json .tools/package.json; then
    mkdir -p .tools
    cp tools/package.json .tools/package.json
    (cd .tools && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
