"""The local stack the app tests run against, assembled in process on free ports: a fresh
database, the gateway (auth, rpc, realtime, the render folder), the HTTP functions (served as
``up`` serves them), the stack's dispatch listener, and a stepped render provider's server;
plus a switchable network per app instance and a clock whose waits tests can skip."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from textual.pilot import Pilot
from textual.widgets import DataTable

from directorstudio.app.config import AppConfig
from directorstudio.pgcluster import free_port
from directorstudio.stack import keys
from directorstudio.stack.dispatch_listener import DispatchListener
from directorstudio.stack.functions import FunctionsServer
from directorstudio.stack.keys import StackKeys
from directorstudio.stack.stack import derived_secret, functions_env
from tests.support.cluster import Server, fresh_database
from tests.support.gateway import running_gateway
from tests.support.network_switch import NetworkSwitch
from tests.support.stepped_render import SteppedRenderService, public_renders_url

WAIT_LIMIT = 60.0


class ShiftedClock:
    """The real clock plus an offset a test moves forward, so a retry's backoff is over at
    once (waits still take real time: nothing spins)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.wait(timeout)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class AppStack:
    """Where the stack listens, its keys, the render service and a superuser connection."""

    url: str
    port: int
    keys: StackKeys
    database_url: str
    admin: psycopg.Connection[Any]
    render: SteppedRenderService
    switches: list[NetworkSwitch] = field(default_factory=list)

    def network(self) -> NetworkSwitch:
        """A new network link to the gateway (one per app instance); stopped with the stack."""
        switch = NetworkSwitch(self.port).start()
        self.switches.append(switch)
        return switch

    def config(
        self, cache_dir: Path, network: NetworkSwitch, clock: ShiftedClock | None = None
    ) -> AppConfig:
        """An app instance's configuration through ``network``."""
        return AppConfig(
            url=network.url, anon_key=self.keys.anon_key, cache_dir=cache_dir,
            clock=clock or ShiftedClock(),
        )  # fmt: skip

    def sign_up(self, email: str, password: str) -> str:
        """An email account (the user id)."""
        reply = httpx.post(
            f"{self.url}/auth/v1/signup",
            json={"email": email, "password": password},
            headers={"apikey": self.keys.anon_key},
            timeout=30,
        )
        reply.raise_for_status()
        return str(reply.json()["user"]["id"])

    def grant_credits(self, user_id: str, amount: int) -> None:
        """Credits for a user's account, as the service role."""
        reply = httpx.post(
            f"{self.url}/rest/v1/rpc/grant_credits",
            json={
                "p_user_key": user_id,
                "p_amount": amount,
                "p_idempotency_key": f"test:{uuid.uuid4()}",
                "p_user_id": user_id,
                "p_reason": "test",
            },
            headers={
                "apikey": self.keys.service_role_key,
                "Authorization": f"Bearer {self.keys.service_role_key}",
            },
            timeout=30,
        )
        assert reply.is_success, reply.text

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of a query on the server's database, as the superuser."""
        return self.admin.execute(query, params).fetchall()

    def credits(self, user_id: str) -> tuple[int, bool]:
        """The account's credits and whether its free clip was used."""
        row = self.admin.execute(
            "SELECT credits, first_clip_consumed FROM public.credits_ledger WHERE user_key = %s",
            (user_id,),
        ).fetchone()
        assert row is not None
        return int(row[0]), bool(row[1])


@contextmanager
def _listening(database_url: str, functions_url: str, secret: str) -> Iterator[None]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    listener = DispatchListener(database_url, functions_url, secret)

    async def start() -> asyncio.Task[None]:
        task = asyncio.create_task(listener.run())
        await asyncio.wait_for(listener.listening.wait(), 30)
        return task

    async def stop(task: asyncio.Task[None]) -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    task = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=35)
    try:
        yield
    finally:
        asyncio.run_coroutine_threadsafe(stop(task), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@contextmanager
def app_stack(server: Server, template: str, folder: Path) -> Iterator[AppStack]:
    """The whole stack over a fresh database, until the block ends."""
    with fresh_database(server, template) as database_url:
        stack_keys = keys.generate()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        render_dir = folder / "renders"
        render_dir.mkdir(parents=True, exist_ok=True)
        render = SteppedRenderService(
            stack_keys.webhook_secret, render_dir, public_renders_url(url)
        )
        with render.running():
            env = functions_env(stack_keys, url, database_url, render_dir)
            env |= {"RENDER_PROVIDER": "http", "RENDER_PROVIDER_URL": render.url}
            functions = FunctionsServer(free_port(), env, folder / "functions.log")
            functions.start()
            stack: AppStack | None = None
            try:
                with (
                    running_gateway(
                        database_url, functions_url=functions.url, stack_keys=stack_keys,
                        port=port, render_dir=render_dir,
                    ),
                    _listening(
                        database_url, functions.url, derived_secret(stack_keys, "scheduler")
                    ),
                    psycopg.connect(database_url, autocommit=True) as admin,
                ):  # fmt: skip
                    stack = AppStack(url, port, stack_keys, database_url, admin, render)
                    yield stack
            finally:
                for switch in stack.switches if stack else []:
                    switch.stop()
                functions.stop()


# --- driving the app ------------------------------------------------------------------------------
async def until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition()`` holds (bounded: fails naming ``what``)."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        failure = pilot.app._exception  # an error in the app ends it: report it, do not wait
        if failure is not None:
            raise AssertionError(f"the app failed while waiting until {what}") from failure
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await pilot.pause(0.05)


def table_rows(pilot: Pilot[Any], selector: str) -> list[tuple[str, ...]]:
    """The cells of a table on the current screen, as text."""
    table: DataTable[Any] = pilot.app.screen.query_one(selector, DataTable)
    return [tuple(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


def screen_name(pilot: Pilot[Any]) -> str:
    """The class name of the current screen, once it is mounted (its ``on_mount`` has run, so
    it shows its state); ``"<name> (mounting)"`` until then."""
    screen = pilot.app.screen
    name = type(screen).__name__
    return name if screen.is_mounted else f"{name} (mounting)"
