"""Transports: the :class:`Transport` protocol, supabase-py and direct PostgreSQL."""

from directorstudio_client.transport.protocol import HintCallback, HintSubscription, Transport

__all__ = ["HintCallback", "HintSubscription", "Transport"]
