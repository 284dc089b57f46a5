"""One gateway and one functions server over one database, shared by a whole test module.

The render provider is an HTTP provider on a closed loopback port with one dispatch attempt, so
every clip dispatch fails at once inside the request and nothing writes to the database after a
response has been sent (no render callbacks arrive later): a row digest taken after a call is
final.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from directorstudio.pgcluster import free_port
from directorstudio.stack import keys, tokens
from directorstudio.stack.functions import FunctionsServer
from directorstudio.stack.keys import StackKeys
from directorstudio.stack.stack import functions_env
from tests.support.catalog import DigestQuery, digest_query
from tests.support.cluster import Server, fresh_database
from tests.support.gateway import RunningGateway, running_gateway


@dataclass
class ApiStack:
    """Where the stack listens, its keys and secrets, and a superuser connection to its data."""

    gateway: RunningGateway
    functions_url: str
    database_url: str
    admin: psycopg.Connection[Any]
    digests: DigestQuery
    http: httpx.Client
    functions_env: dict[str, str]
    last_digest: dict[str, str] | None = None

    @property
    def keys(self) -> StackKeys:
        return self.gateway.keys

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def webhook_secret(self) -> str:
        return self.functions_env["CLIP_WEBHOOK_SECRET"]

    @property
    def scheduler_secret(self) -> str:
        return self.functions_env["SCHEDULER_SECRET"]

    def digest(self, *, except_owner: str | None = None) -> dict[str, str]:
        """The digest of every table (optionally leaving out one user's rows)."""
        return self.digests.run(self.admin, except_owner=except_owner)

    def sign_in(self) -> tuple[str, str]:
        """A new anonymous user of the gateway: (user id, access token)."""
        reply = self.http.post(
            f"{self.url}/auth/v1/signup",
            json={"data": {}},
            headers={"apikey": self.keys.anon_key},
        )
        reply.raise_for_status()
        session = reply.json()
        return str(session["user"]["id"]), str(session["access_token"])

    def rpc(self, token: str, name: str, args: dict[str, Any]) -> Any:
        """Call rpc ``name`` with ``token``; its JSON result (fails on an error answer)."""
        reply = self.http.post(
            f"{self.url}/rest/v1/rpc/{name}",
            json=args,
            headers={"apikey": self.keys.anon_key, "Authorization": f"Bearer {token}"},
        )
        assert reply.is_success, f"{name}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None

    def user_token(self, user_id: str, *, secret: str | None = None, **overrides: Any) -> str:
        """An access token for ``user_id`` signed with the stack's secret (claims overridable)."""
        now = int(self.gateway.config.clock())
        claims: dict[str, Any] = {
            "sub": user_id,
            "aud": "authenticated",
            "role": "authenticated",
            "iat": now,
            "exp": now + 3600,
            "session_id": str(uuid.uuid4()),
            "is_anonymous": True,
            "iss": self.gateway.config.auth_issuer,
        }
        claims.update(overrides)
        return tokens.encode(claims, secret or self.keys.jwt_secret)


@dataclass(frozen=True)
class SeededUser:
    """A signed-in user and the ids of what it owns."""

    user_id: str
    token: str
    project_id: str
    scene_ids: tuple[str, str]
    job_id: str
    screenplay_id: str
    marker: str

    @property
    def ids(self) -> list[str]:
        return [self.user_id, self.project_id, *self.scene_ids, self.job_id, self.screenplay_id]


def seed_user(stack: ApiStack, marker: str) -> SeededUser:
    """A signed-in user with credits, a project with two scenes, a clip job, a screenplay,
    telemetry and continuity rows; every text it wrote contains ``marker``."""
    user_id, token = stack.sign_in()
    project_id, first, second, job_id, screenplay_id = (str(uuid.uuid4()) for _ in range(5))
    stack.rpc(
        stack.keys.service_role_key,
        "grant_credits",
        {
            "p_user_key": user_id,
            "p_amount": 50,
            "p_idempotency_key": f"seed:{user_id}",
            "p_user_id": user_id,
            "p_reason": marker,
        },
    )
    stack.rpc(token, "upsert_project_overview", {"p_project_id": project_id, "p_title": marker})
    for scene in (first, second):
        stack.rpc(
            token,
            "create_scene_draft",
            {"p_id": scene, "p_project_id": project_id, "p_prompt_text": marker, "p_duration": 3.0},
        )
    stack.rpc(
        token,
        "enqueue_clip_job",
        {
            "p_job_id": job_id,
            "p_user_key": user_id,
            "p_prompt": marker,
            "p_project_id": project_id,
            "p_scene_draft_id": first,
        },
    )
    stack.rpc(
        token,
        "batch_upsert_telemetry",
        {
            "p_batch_id": str(uuid.uuid4()),
            "p_events": [{"element": marker, "attempts": 2, "successes": 1}],
        },
    )
    stack.rpc(
        token,
        "insert_continuity_log",
        {
            "p_id": str(uuid.uuid4()),
            "p_scene_id": 1,
            "p_confidence": 0.5,
            "p_issues": [marker],
            "p_passed": False,
            "p_timestamp": "2026-11-30T12:00:00Z",
            "p_scene_draft_id": first,
        },
    )
    stack.rpc(
        token,
        "sync_push",
        {
            "p_client_id": str(uuid.uuid4()),
            "p_mutations": [
                {
                    "mutation_id": 1,
                    "table": "screenplays",
                    "op": "upsert",
                    "id": screenplay_id,
                    "args": {"title": marker, "content": marker},
                }
            ],
        },
    )
    return SeededUser(user_id, token, project_id, (first, second), job_id, screenplay_id, marker)


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_stack(server: Server, template: str, folder: Path) -> Iterator[ApiStack]:
    """A fresh database with the gateway and the real functions in front of it."""
    with fresh_database(server, template) as database_url:
        stack_keys = keys.generate()
        port = free_port()
        env = functions_env(
            stack_keys, f"http://127.0.0.1:{port}", database_url, folder / "renders"
        )
        env.update(
            {
                "RENDER_PROVIDER": "http",
                "RENDER_PROVIDER_URL": f"http://127.0.0.1:{closed_port()}/render",
                "DISPATCH_ATTEMPTS": "1",
            }
        )
        functions = FunctionsServer(free_port(), env, folder / "functions.log")
        functions.start()
        try:
            with (
                running_gateway(
                    database_url, functions_url=functions.url, stack_keys=stack_keys, port=port
                ) as gateway,
                psycopg.connect(database_url, autocommit=True) as admin,
                httpx.Client(timeout=60) as http,
            ):
                yield ApiStack(
                    gateway, functions.url, database_url, admin, digest_query(admin), http, env
                )
        finally:
            functions.stop()
