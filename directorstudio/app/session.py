"""Signing in, and the session kept between launches so the app opens offline.

The session (user id, tokens) is stored in the backend's folder (``session.json``, mode 0600).
A relaunch resumes it without the network: the cache is shown at once and the transport
restores the tokens with the auth server on its first call, refreshing them when they are
about to expire. Until the server can be reached every call fails as ``unavailable``, so the
outbox keeps its writes for later; a session the server no longer accepts fails as
``not_authenticated`` (the user signs in again).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client.transport.protocol import HintCallback, HintSubscription
from directorstudio_client.transport.supabase import SupabaseTransport

SESSION_FILE = "session.json"
REFRESH_MARGIN = 60.0  # refresh an access token that expires within this many seconds
AUTH_REFUSED = (400, 401, 403, 404, 422)  # the auth server's answers that end a session


@dataclass(frozen=True)
class StoredSession:
    """A signed-in user as kept on disk."""

    user_id: str
    access_token: str
    refresh_token: str
    expires_at: float
    email: str | None = None

    @property
    def anonymous(self) -> bool:
        """Whether the user signed in without an account."""
        return self.email is None

    @classmethod
    def of(cls, session: Any) -> StoredSession:
        """From a supabase-py session."""
        user = session.user
        return cls(
            user_id=str(user.id),
            access_token=str(session.access_token),
            refresh_token=str(session.refresh_token),
            expires_at=float(session.expires_at or time.time() + (session.expires_in or 0)),
            email=getattr(user, "email", None) or None,
        )


class SessionStore:
    """The stored session of one backend folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / SESSION_FILE

    def load(self) -> StoredSession | None:
        """The stored session, or ``None`` (never signed in, or signed out)."""
        try:
            raw = json.loads(self.path.read_text())
            return StoredSession(**raw)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, session: StoredSession) -> None:
        """Keep ``session`` (replaced atomically, readable by this user only)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(asdict(session), handle)
        partial.replace(self.path)

    def clear(self) -> None:
        """Forget the session (sign out)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _auth_error(error: Exception, what: str) -> DirectorStudioError:
    status = getattr(error, "status", None)
    if isinstance(status, int) and status in AUTH_REFUSED:
        message = getattr(error, "message", None) or str(error)
        return DirectorStudioError(f"{what}: {message}", code=ErrorCode.NOT_AUTHENTICATED)
    return DirectorStudioError(f"{what}: the server cannot be reached", code=ErrorCode.UNAVAILABLE)


class SessionTransport:
    """The client library's transport (supabase-py) as one signed-in user, across launches.

    Sign-in methods talk to the auth server and store the session; :meth:`resume` takes a
    stored one without the network. ``rpc`` and ``subscribe_hints`` first make sure the
    supabase client holds a current session.
    """

    def __init__(self, url: str, anon_key: str, store: SessionStore) -> None:
        self.inner = SupabaseTransport(url, anon_key, auto_refresh_token=False)
        self.store = store
        self.session: StoredSession | None = None
        self._restored = False
        self._lock = threading.RLock()

    @property
    def user_id(self) -> str:
        """The signed-in user (``not_authenticated`` before a sign-in)."""
        if self.session is None:
            raise DirectorStudioError("not signed in", code=ErrorCode.NOT_AUTHENTICATED)
        return self.session.user_id

    # --- signing in --------------------------------------------------------------------------
    def sign_in_anonymously(self) -> StoredSession:
        """A new anonymous user."""
        return self._signed_in(lambda auth: auth.sign_in_anonymously(), "anonymous sign-in")

    def sign_in(self, email: str, password: str) -> StoredSession:
        """Sign in with email and password."""
        return self._signed_in(
            lambda auth: auth.sign_in_with_password({"email": email, "password": password}),
            "sign-in",
        )

    def sign_up(self, email: str, password: str) -> StoredSession:
        """Create an account and sign in."""
        return self._signed_in(
            lambda auth: auth.sign_up({"email": email, "password": password}), "sign-up"
        )

    def _signed_in(self, call: Any, what: str) -> StoredSession:
        try:
            response = call(self.inner.client.auth)
        except Exception as error:
            raise _auth_error(error, what) from error
        if response.session is None:
            raise DirectorStudioError(f"{what}: no session", code=ErrorCode.NOT_AUTHENTICATED)
        with self._lock:
            self.session = StoredSession.of(response.session)
            self._restored = True
            self.store.save(self.session)
            return self.session

    def resume(self, session: StoredSession) -> None:
        """Continue a stored session; nothing reaches the network until the first call."""
        with self._lock:
            self.session, self._restored = session, False

    def sign_out(self) -> None:
        """Forget the session here (the server's session ends when its tokens expire)."""
        with self._lock:
            self.session, self._restored = None, False
            self.store.clear()

    # --- keeping the session current ----------------------------------------------------------
    def _ensure(self) -> None:
        with self._lock:
            session = self.session
            if session is None:
                raise DirectorStudioError("not signed in", code=ErrorCode.NOT_AUTHENTICATED)
            expiring = session.expires_at - time.time() < REFRESH_MARGIN
            if self._restored and not expiring:
                return
            auth = self.inner.client.auth
            try:
                if expiring:
                    response = auth.refresh_session(session.refresh_token)
                else:
                    response = auth.set_session(session.access_token, session.refresh_token)
            except Exception as error:
                raise _auth_error(error, "restoring the session") from error
            if response.session is None:
                raise DirectorStudioError("the session ended", code=ErrorCode.NOT_AUTHENTICATED)
            fresh = StoredSession.of(response.session)
            self.session = replace(fresh, email=fresh.email or session.email)
            self._restored = True
            self.store.save(self.session)

    def rpc(self, name: str, args: Mapping[str, Any]) -> Any:
        """Call ``public.<name>`` as the signed-in user."""
        self._ensure()
        try:
            return self.inner.rpc(name, args)
        except DirectorStudioError as error:
            if error.code != ErrorCode.NOT_AUTHENTICATED:
                raise
        # The access token was refused (expired early, or revoked): restore once and retry.
        with self._lock:
            self._restored = False
        self._ensure()
        return self.inner.rpc(name, args)

    def subscribe_hints(self, user_id: str, on_hint: HintCallback) -> HintSubscription:
        """Change hints of ``user:<user_id>`` over realtime."""
        self._ensure()
        return self.inner.subscribe_hints(user_id, on_hint)

    def close(self) -> None:
        """Release the client."""
        self.inner.close()
