"""The local stack's dispatch path for tests: the functions served as ``up`` serves them, with an
HTTP render provider pointed at a fake render service, and the stack's notification listener."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from directorstudio.bench.functions import functions_with_render_service
from directorstudio.bench.render_service import FakeRenderService
from directorstudio.stack.dispatch_listener import DispatchListener


@dataclass
class DispatchStack:
    """Where the functions answer and the render service that receives the jobs."""

    functions_url: str
    scheduler_secret: str
    render: FakeRenderService


@contextmanager
def listening_stack(database_url: str, folder: Path) -> Iterator[DispatchStack]:
    """Functions, fake render service and the listener (no scheduled retry runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (
        FakeRenderService().running() as render,
        functions_with_render_service(database_url, folder, render) as served,
    ):
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        listener = DispatchListener(database_url, served.url, served.scheduler_secret)

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
            yield DispatchStack(served.url, served.scheduler_secret, render)
        finally:
            asyncio.run_coroutine_threadsafe(stop(task), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
