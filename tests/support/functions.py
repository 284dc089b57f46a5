"""Helpers for the HTTP function tests: users, tokens, credits and an in-process harness."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask.testing
import functions_framework
import jwt
import psycopg
import tenacity

from directorstudio.db.context import request_transaction
from directorstudio.server import runtime, webhook_signing
from directorstudio.server.config import Settings
from directorstudio.server.render.base import RenderProvider
from directorstudio.server.render.files import FileServer
from directorstudio.server.render.local import LocalRenderProvider
from directorstudio.server.render.transport import HttpReply, Post
from directorstudio.server.render.video import VideoSpec
from tests.support.users import create_user as create_user

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
DISPATCHER = ROOT / "directorstudio" / "server" / "dispatcher.py"

JWT_SECRET = "test-project-jwt-secret-with-at-least-32-bytes"
OTHER_PROJECT_SECRET = "another-project-jwt-secret-with-32-bytes-too"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"test-webhook-secret-of-32-bytes!").decode()
OTHER_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"another-webhook-secret-32-bytes!").decode()
SCHEDULER_SECRET = "test-scheduler-secret"
SERVICE_ROLE_KEY = "test-service-role-key"
CALLBACK_URL = "http://functions.test/clip_webhook"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now


def user_token(
    user_id: uuid.UUID | str,
    *,
    secret: str = JWT_SECRET,
    expires_in: int = 3600,
    audience: str = "authenticated",
    role: str = "authenticated",
    algorithm: str = "HS256",
    key: Any = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """A Supabase-style access token for ``user_id``."""
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "aud": audience,
        "role": role,
        "iat": now,
        "exp": now + expires_in,
        "email": "user@example.test",
        "aal": "aal1",
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }
    return jwt.encode(
        claims, key if key is not None else secret, algorithm=algorithm, headers=dict(headers or {})
    )


def grant_credits(conn: psycopg.Connection[Any], user_id: uuid.UUID, amount: int) -> None:
    """Grant ``amount`` credits to the user's own account, as the service role."""
    with request_transaction(conn, "service_role", {"role": "service_role"}):
        conn.execute(
            "SELECT public.grant_credits(%s, %s, %s, %s, %s)",
            (str(user_id), amount, f"test-grant:{uuid.uuid4()}", user_id, "test"),
        )


def consume_free_clip(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> None:
    """Mark the account's free first clip as used (as if an earlier clip had taken it)."""
    conn.execute(
        "UPDATE public.credits_ledger SET first_clip_consumed = true WHERE user_key = %s",
        (str(user_id),),
    )


def signed_headers(
    body: bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    at: float | None = None,
    webhook_id: str | None = None,
) -> dict[str, str]:
    """Standard Webhooks headers of a delivery of ``body`` signed at ``at`` (default: now) as
    message ``webhook_id`` (default: a fresh id)."""
    moment = time.time() if at is None else at
    message_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    return {
        "Content-Type": "application/json",
        **webhook_signing.sign(secret, message_id, body, clock=lambda: moment),
    }


def event_body(job_id: uuid.UUID | str, status: str, **fields: Any) -> bytes:
    """The JSON body of a render-provider event (its id travels in the ``webhook-id`` header)."""
    payload = {"job_id": str(job_id), "status": status}
    payload.update(fields)
    return json.dumps(payload).encode()


def client_post(client: flask.testing.FlaskClient) -> Post:
    """A transport that delivers POSTs to ``client`` (the webhook function, in process)."""

    def post(url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        response = client.post(urlsplit(url).path, data=body, headers=dict(headers))
        return HttpReply(response.status_code, response.get_data())

    return post


def make_client(name: str, target: str | None = None) -> flask.testing.FlaskClient:
    """functions-framework's test client for ``functions/<name>/main.py``."""
    app = functions_framework.create_app(
        target=target or name, source=str(FUNCTIONS / name / "main.py")
    )
    return app.test_client()


@dataclass
class Harness:
    """The three functions in process, over one fresh database, with a local render provider."""

    database_url: str
    context: runtime.ServerContext
    enqueue: flask.testing.FlaskClient
    webhook: flask.testing.FlaskClient
    telemetry: flask.testing.FlaskClient
    provider: RenderProvider
    clock: FakeClock
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def local(self) -> LocalRenderProvider:
        assert isinstance(self.provider, LocalRenderProvider)
        return self.provider

    def enqueue_clip(self, token: str | None, body: Mapping[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.enqueue.post("/", json=dict(body), headers=headers)

    def deliver(
        self,
        body: bytes,
        *,
        at: float | None = None,
        secret: str = WEBHOOK_SECRET,
        webhook_id: str | None = None,
    ) -> Any:
        """POST ``body`` to clip_webhook, signed at ``at`` (default: the harness clock)."""
        headers = signed_headers(
            body, secret=secret, at=self.clock() if at is None else at, webhook_id=webhook_id
        )
        return self.webhook.post("/", data=body, headers=headers)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def job(self, job_id: uuid.UUID | str) -> dict[str, Any]:
        rows = self.query(
            "SELECT to_jsonb(j) FROM public.clip_jobs j WHERE j.id = %s", (str(job_id),)
        )
        assert rows, f"no clip job {job_id}"
        return dict(rows[0][0])

    def refunds(self, job_id: uuid.UUID | str) -> int:
        rows = self.query(
            "SELECT count(*) FROM public.credit_transactions"
            " WHERE clip_job_id = %s AND kind IN ('refund', 'first_clip_refund')",
            (str(job_id),),
        )
        return int(rows[0][0])

    def balance(self, user_id: uuid.UUID) -> tuple[int, bool]:
        rows = self.query(
            "SELECT credits, first_clip_consumed FROM public.credits_ledger WHERE user_key = %s",
            (str(user_id),),
        )
        return int(rows[0][0]), bool(rows[0][1])


def settings_for_tests(database_url: str, output_dir: Path, **overrides: Any) -> Settings:
    """Settings the tests run the functions with."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwt_secret": JWT_SECRET,
        "clip_webhook_secret": WEBHOOK_SECRET,
        "clip_webhook_url": CALLBACK_URL,
        "scheduler_secret": SCHEDULER_SECRET,
        "service_role_key": SERVICE_ROLE_KEY,
        "render_output_dir": output_dir,
        "render_clip_seconds": 2.0,
        "dispatch_attempts": 3,
        "dispatch_max_attempts": 5,
        "db_pool_size": 4,
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def harness(
    database_url: str,
    output_dir: Path,
    *,
    provider_factory: Callable[[Post, FakeClock], RenderProvider] | None = None,
    **overrides: Any,
) -> Iterator[Harness]:
    """Install a server context for this test and hand out the functions' test clients."""
    clock = FakeClock()
    settings = settings_for_tests(database_url, output_dir, **overrides)
    webhook = make_client("clip_webhook")
    post = client_post(webhook)
    if provider_factory is not None:
        provider = provider_factory(post, clock)
    else:
        provider = LocalRenderProvider(
            files=FileServer(output_dir).start(),
            webhook_secret=WEBHOOK_SECRET,
            spec=VideoSpec(seconds=settings.render_clip_seconds),
            post=post,
            clock=clock,
        )
    context = runtime.build(
        settings, provider=provider, clock=clock, wait=tenacity.wait_none(), sleep=lambda _: None
    )
    runtime.install(context)
    try:
        yield Harness(
            database_url=database_url,
            context=context,
            enqueue=make_client("enqueue_clip"),
            webhook=webhook,
            telemetry=make_client("telemetry_batch"),
            provider=provider,
            clock=clock,
        )
    finally:
        runtime.install(None)
        context.close()
