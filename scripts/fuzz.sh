#!/usr/bin/env bash
# The full fuzz run (more than 10,000 cases): every rpc function, every served table endpoint
# and every HTTP function against a real gateway and the real functions. CI runs the short
# profile as part of scripts/test.sh. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
source .venv/bin/activate

DIRECTORSTUDIO_FUZZ_PROFILE=full exec python -m pytest tests/py/fuzz "$@"
