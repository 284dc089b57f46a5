"""How the client reaches the backend: ``rpc`` calls and change hints."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

HintCallback = Callable[[str], None]


class HintSubscription(Protocol):
    """A live subscription to the user's change hints."""

    @property
    def active(self) -> bool:
        """Whether hints are currently being received."""
        ...

    def close(self) -> None:
        """Stop receiving hints."""
        ...


class Transport(Protocol):
    """Calls the database API as the signed-in user.

    ``rpc`` returns the function's JSON result and raises
    :class:`~directorstudio.contracts.errors.DirectorStudioError` with the documented code
    (``unavailable`` when the backend cannot be reached). ``subscribe_hints`` calls
    ``on_hint(topic)`` whenever the server announces a change on the user's private topic; a
    hint carries no data, it only says "pull now".
    """

    def rpc(self, name: str, args: Mapping[str, Any]) -> Any:
        """Call ``public.<name>`` with named arguments."""
        ...

    def subscribe_hints(self, user_id: str, on_hint: HintCallback) -> HintSubscription:
        """Start receiving change hints for ``user:<user_id>``. ``on_hint`` is also called each
        time the subscription is (re)established: hints sent before that reached nobody."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
