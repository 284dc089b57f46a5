"""A client in a process of its own, so the suite can ``kill -9`` it mid-push.

``python -m tests.py.chaos.device_process SPEC MODE``: SPEC is a JSON file naming the stack,
the account, the cache file, the client id and the operations. ``write`` applies the
operations once (remembered in the cache) and then syncs; ``settle`` syncs until the outbox is
empty. Exit status 0 when settled, 3 when the bounds ran out.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tests.py.chaos.actions import apply_op, drive_until_settled, open_device

APPLIED = "chaos_ops_applied"
ROUNDS = 200
DEADLINE = 120.0


def main(spec_path: str, mode: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    device = open_device(
        "subprocess", spec["url"], spec["anon_key"], spec["email"], Path(spec["cache"]),
        client_id=spec["client_id"], seed=spec["seed"],
    )  # fmt: skip
    try:
        if mode == "write" and device.storage.get_meta(APPLIED) != "1":
            with device.storage.transaction():
                for op in spec["ops"]:
                    apply_op(device.sync, op)
                device.storage.set_meta(APPLIED, "1")
        settled = drive_until_settled(device, ROUNDS, time.monotonic() + DEADLINE)
        print(json.dumps({"settled": settled, "health": str(device.sync.health())}))
        return 0 if settled else 3
    finally:
        device.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
