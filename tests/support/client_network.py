"""A fake of the network between the client library and the backend.

Wraps a real transport and, on request, drops requests before they leave (offline), drops the
acknowledgement after the server has answered (lost ack), has a proxy on the way answer a
server error instead of forwarding (gateway errors), or refuses realtime. It never answers in
the server's place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client.transport.protocol import HintCallback, HintSubscription, Transport


def _unreachable(what: str) -> DirectorStudioError:
    return DirectorStudioError(f"network unreachable ({what})", code=ErrorCode.UNAVAILABLE)


@dataclass
class FlakyNetwork:
    """A transport whose network can be cut in the ways a phone's can."""

    inner: Transport | None = None
    url: str = ""
    offline: bool = False
    realtime_down: bool = False
    drop_acks: int = 0
    gateway_errors: int = 0
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)

    def rpc(self, name: str, args: Mapping[str, Any]) -> Any:
        self.calls.append((name, dict(args)))
        if self.offline or self.inner is None:
            raise _unreachable("request not sent")
        if self.gateway_errors > 0:
            self.gateway_errors -= 1
            raise DirectorStudioError("502 Bad Gateway", code=ErrorCode.INTERNAL)
        answer = self.inner.rpc(name, args)
        self.delivered.append(name)
        if self.drop_acks > 0:
            self.drop_acks -= 1
            raise _unreachable("acknowledgement lost")
        return answer

    def subscribe_hints(self, user_id: str, on_hint: HintCallback) -> HintSubscription:
        if self.offline or self.realtime_down or self.inner is None:
            raise _unreachable("realtime")
        return self.inner.subscribe_hints(user_id, on_hint)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()

    def calls_to(self, name: str) -> int:
        return sum(1 for called, _ in self.calls if called == name)
