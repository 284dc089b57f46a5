"""The production transport: supabase-py ``rpc`` plus realtime change hints.

The sync client has no realtime (``channel()`` raises ``NotImplementedError``), so hints run on
the async client's realtime in a background thread with its own event loop, on the private
channel ``user:<id>``, event ``change``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Mapping
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode, code_for
from directorstudio_client.transport.protocol import HintCallback


def translate_api_error(error: Exception) -> DirectorStudioError:
    """A postgrest ``APIError`` (code = SQLSTATE or ``PGRST...``, hint = our code, details =
    JSON) as ours, through the error table."""
    code = getattr(error, "code", None)
    hint = getattr(error, "hint", None)
    message = getattr(error, "message", None) or str(error)
    details: Any = getattr(error, "details", None)
    if isinstance(details, str):
        with contextlib.suppress(ValueError):
            details = json.loads(details)
    return DirectorStudioError(message, code=code_for(code, hint), detail=details)


class _RealtimeSubscription:
    def __init__(
        self, url: str, key: str, access_token: str, topic: str, on_hint: HintCallback
    ) -> None:
        self._url, self._key, self._token = url, key, access_token
        self._topic = topic
        self._on_hint = on_hint
        self._subscribed = threading.Event()
        self._failed: BaseException | None = None
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._client: Any = None
        self._thread = threading.Thread(target=self._run, name=f"realtime {topic}", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        return self._subscribed.is_set()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._connect())
        except Exception as error:  # reported through .active and wait_ready
            self._failed = error
        finally:
            self._ready.set()
        if self._failed is None:
            self._loop.run_forever()

    async def _connect(self) -> None:
        from realtime.types import RealtimeSubscribeStates

        from supabase import AsyncClientOptions, acreate_client

        self._client = await acreate_client(
            self._url,
            self._key,
            options=AsyncClientOptions(auto_refresh_token=False, persist_session=False),
        )
        await self._client.realtime.set_auth(self._token)
        channel = self._client.channel(self._topic, {"config": {"private": True}})

        def on_change(_message: Any) -> None:
            self._on_hint(self._topic)

        def on_status(status: Any, _error: Exception | None) -> None:
            if status == RealtimeSubscribeStates.SUBSCRIBED:
                self._subscribed.set()
                # Hints sent before this (re)join reached nobody: pull whatever changed.
                self._on_hint(self._topic)
            else:
                self._subscribed.clear()

        channel.on_broadcast("change", on_change)
        await channel.subscribe(on_status)

    def wait_ready(self, timeout: float) -> None:
        self._ready.wait(timeout)
        if self._failed is not None:
            raise DirectorStudioError(
                f"realtime unavailable: {self._failed}", code=ErrorCode.UNAVAILABLE
            )

    def close(self) -> None:
        self._subscribed.clear()

        async def shutdown() -> None:
            if self._client is not None:
                await self._client.realtime.close()

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


class SupabaseTransport:
    """Calls the database API through supabase-py as the signed-in user."""

    def __init__(
        self,
        url: str,
        key: str,
        client: Any | None = None,
        *,
        auto_refresh_token: bool = True,
    ) -> None:
        from supabase import ClientOptions, create_client

        self.url, self.key = url, key
        options = ClientOptions(auto_refresh_token=auto_refresh_token, persist_session=False)
        self.client: Any = client or create_client(url, key, options=options)

    def sign_in_with_password(self, email: str, password: str) -> str:
        """Sign in; returns the user id."""
        try:
            response = self.client.auth.sign_in_with_password(
                {"email": email, "password": password}
            )
        except Exception as error:
            raise DirectorStudioError(str(error), code=ErrorCode.NOT_AUTHENTICATED) from error
        return str(response.user.id)

    def sign_up(self, email: str, password: str) -> str:
        """Create an account and sign in; returns the user id."""
        try:
            response = self.client.auth.sign_up({"email": email, "password": password})
        except Exception as error:
            raise DirectorStudioError(str(error), code=ErrorCode.INVALID_INPUT) from error
        if response.user is None or response.session is None:
            raise DirectorStudioError(
                "sign-up needs confirmation", code=ErrorCode.NOT_AUTHENTICATED
            )
        return str(response.user.id)

    def sign_in_anonymously(self) -> str:
        """Sign in as a new anonymous user; returns the user id."""
        try:
            response = self.client.auth.sign_in_anonymously()
        except Exception as error:
            raise DirectorStudioError(str(error), code=ErrorCode.NOT_AUTHENTICATED) from error
        return str(response.user.id)

    def _access_token(self) -> str:
        session = self.client.auth.get_session()
        if session is None:
            raise DirectorStudioError("not signed in", code=ErrorCode.NOT_AUTHENTICATED)
        return str(session.access_token)

    def rpc(self, name: str, args: Mapping[str, Any]) -> Any:
        """``POST /rest/v1/rpc/<name>`` with the named arguments; the JSON result."""
        import httpx
        from postgrest.exceptions import APIError

        try:
            response = self.client.rpc(name, dict(args)).execute()
        except APIError as error:
            raise translate_api_error(error) from error
        except httpx.HTTPError as error:
            raise DirectorStudioError(str(error), code=ErrorCode.UNAVAILABLE) from error
        return response.data

    def subscribe_hints(self, user_id: str, on_hint: HintCallback) -> _RealtimeSubscription:
        """Join the private channel ``user:<user_id>`` and call ``on_hint`` on each change."""
        subscription = _RealtimeSubscription(
            self.url, self.key, self._access_token(), f"user:{user_id}", on_hint
        )
        subscription.wait_ready(timeout=10)
        return subscription

    def close(self) -> None:
        """Sign-out is the app's choice; nothing to release for the sync client."""
