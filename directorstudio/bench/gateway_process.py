"""The benchmark gateway in a process of its own, as a server runs apart from its clients.

``python -m directorstudio.bench.gateway_process`` reads ``{"database_url", "port", "keys"}`` as
JSON from its standard input, serves the gateway on ``127.0.0.1:<port>``, prints ``ready`` and
runs until its standard input closes (the benchmark ended, or its process is gone).
"""

from __future__ import annotations

import asyncio
import json
import sys

from directorstudio.stack.common import GatewayConfig
from directorstudio.stack.keys import StackKeys
from directorstudio.stack.runner import Gateway


async def serve(settings: dict[str, object]) -> None:
    """Run the gateway until standard input reaches its end."""
    port = int(str(settings["port"]))
    keys = StackKeys(**settings["keys"])  # type: ignore[arg-type]
    config = GatewayConfig(
        keys=keys,
        public_url=f"http://127.0.0.1:{port}",
        database_url=str(settings["database_url"]),
    )
    gateway = Gateway(config, "127.0.0.1", port)
    await gateway.start()
    print("ready", flush=True)
    try:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await gateway.stop()


def main() -> None:
    """Read the settings line and serve."""
    asyncio.run(serve(json.loads(sys.stdin.readline())))


if __name__ == "__main__":
    main()
