#!/usr/bin/env bash
# The full chaos convergence run (docs/reliability.md#chaos-convergence): 8 clients x 1,000
# seeded operations each through the fault proxy, with gateway restarts, PostgreSQL restarts and
# clients killed mid-push (about 7 minutes on a 2-core machine). CHAOS_SEED picks the seed
# (default: a new one, printed), CHAOS_CLIENTS and CHAOS_OPS the sizes; the counts are written
# to CHAOS_REPORT (JSON).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
export CHAOS_CLIENTS="${CHAOS_CLIENTS:-8}"
export CHAOS_OPS="${CHAOS_OPS:-1000}"
export CHAOS_SEED="${CHAOS_SEED:-$(date +%s)}"
export CHAOS_REPORT="${CHAOS_REPORT:-chaos-report.json}"
echo "chaos: seed $CHAOS_SEED, $CHAOS_CLIENTS clients x $CHAOS_OPS operations"
started=$(date +%s)
status=0
.venv/bin/python -m pytest tests/py/chaos -q -s "$@" || status=$?
echo "chaos: seed $CHAOS_SEED finished in $(($(date +%s) - started)) s (exit $status);" \
    "counts in $CHAOS_REPORT"
exit "$status"
