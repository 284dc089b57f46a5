"""The local stack's Realtime: the websocket (Phoenix serializers 1.0.0 and 2.0.0), public and
private channels (authorised by the RLS policies of ``realtime.messages``), broadcast from
clients, the REST API and the database, and presence."""

from __future__ import annotations

from aiohttp import web

from directorstudio.stack.realtime import broadcast_api
from directorstudio.stack.realtime.hub import RealtimeHub

__all__ = ["RealtimeHub", "add_routes"]


def add_routes(app: web.Application, hub: RealtimeHub) -> None:
    """The websocket and the REST broadcast endpoints of ``hub``."""
    app.router.add_get("/realtime/v1/websocket", hub.handle)
    broadcast_api.add_routes(app, hub)
