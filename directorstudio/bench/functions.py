"""The HTTP functions served as ``directorstudio up`` serves them (functions-framework in a
subprocess), with the HTTP render provider pointed at a :class:`FakeRenderService`; and access
tokens they accept."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jwt

from directorstudio.bench.render_service import FakeRenderService
from directorstudio.pgcluster import free_port
from directorstudio.stack import keys
from directorstudio.stack.functions import FunctionsServer
from directorstudio.stack.stack import derived_secret, functions_env


@dataclass(frozen=True)
class ServedFunctions:
    """Where the functions answer and the secrets they accept."""

    url: str
    scheduler_secret: str
    jwt_secret: str
    issuer: str
    webhook_secret: str = ""

    def user_token(self, user_id: uuid.UUID | str, lifetime: int = 3600) -> str:
        """A Supabase-style access token of ``user_id``."""
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "aud": "authenticated",
            "role": "authenticated",
            "iss": self.issuer,
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")


@contextmanager
def functions_with_render_service(
    database_url: str,
    folder: Path,
    render: FakeRenderService,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[ServedFunctions]:
    """Serve the functions over ``database_url`` until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    stack_keys = keys.generate()
    api_url = f"http://127.0.0.1:{free_port()}"
    env = functions_env(stack_keys, api_url, database_url, folder / "renders")
    env |= {"RENDER_PROVIDER": "http", "RENDER_PROVIDER_URL": render.url, **(extra_env or {})}
    server = FunctionsServer(free_port(), env, folder / "functions.log")
    server.start()
    try:
        yield ServedFunctions(
            url=server.url,
            scheduler_secret=derived_secret(stack_keys, "scheduler"),
            jwt_secret=stack_keys.jwt_secret,
            issuer=env["SUPABASE_JWT_ISSUER"],
            webhook_secret=stack_keys.webhook_secret,
        )
    finally:
        server.stop()
