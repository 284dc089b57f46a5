"""The functions server's process: functions-framework, ended when the stack process goes away.

``python -m directorstudio.stack.functions_process <functions-framework arguments>`` runs
functions-framework (gunicorn's arbiter and its workers) and watches the process that started
it: when that process is gone, even killed with SIGKILL, it ends its whole process group, so no
worker is ever left behind.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time

WATCH_INTERVAL_SECONDS = 0.5


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL_SECONDS)
    os.killpg(os.getpgrp(), signal.SIGKILL)


def main() -> None:
    """Start watching the parent, then run functions-framework with our arguments."""
    threading.Thread(target=_watch, args=(os.getppid(),), daemon=True).start()
    sys.argv = ["functions-framework", *sys.argv[1:]]
    runpy.run_module("functions_framework", run_name="__main__")


if __name__ == "__main__":
    main()
