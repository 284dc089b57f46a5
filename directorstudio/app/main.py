"""The Textual app: signs in (or resumes the stored session), opens the user's cache and
ViewModels, starts syncing and shows the library."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from directorstudio.app.config import AppConfig
from directorstudio.app.downloads import ClipDownloads
from directorstudio.app.session import SessionStore, SessionTransport
from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client.storage import SQLiteStorage
from directorstudio_client.viewmodels import AppSession, ClipJobItem, open_session

log = logging.getLogger(__name__)
CACHE_FILE = "cache.db"
CLIPS_FOLDER = "clips"


class DirectorStudioApp(App[None]):
    """DirectorStudio in the terminal (or a browser through ``--web``)."""

    TITLE = "DirectorStudio"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("s", "sync_now", "Sync now"),
        Binding("q", "queue", "Queue"),
        Binding("ctrl+o", "sign_out", "Sign out", show=False),
    ]

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        self.store = SessionStore(config.backend_dir)
        self.transport = SessionTransport(config.url, config.anon_key, self.store)
        self.session: AppSession | None = None
        self.downloads: ClipDownloads | None = None
        self._storage: SQLiteStorage | None = None
        self._unsubscribe_clips: list[object] = []

    # --- the session --------------------------------------------------------------------------
    def require_session(self) -> AppSession:
        """The signed-in user's ViewModels (screens after sign-in only)."""
        if self.session is None:
            raise DirectorStudioError("not signed in", code=ErrorCode.NOT_AUTHENTICATED)
        return self.session

    def on_mount(self) -> None:
        stored = self.store.load()
        if stored is not None:
            self.transport.resume(stored)
            self._open_session()
            return
        from directorstudio.app.screens.signin import SignInScreen

        self.push_screen(SignInScreen(self.config.email))

    def signed_in(self) -> None:
        """Called by the sign-in screen once a session is stored."""
        self._open_session(replace_screen=True)

    def _open_session(self, *, replace_screen: bool = False) -> None:
        from directorstudio.app.screens.library import LibraryScreen

        user_id = self.transport.user_id
        folder = self.config.user_dir(user_id)
        folder.mkdir(parents=True, exist_ok=True)
        self._storage = SQLiteStorage(str(folder / CACHE_FILE))
        self.session = open_session(
            self._storage, self.transport, user_id, clock=self.config.clock,
            poll_interval=self.config.poll_interval,
        )  # fmt: skip
        self.downloads = ClipDownloads(folder / CLIPS_FOLDER)
        self.session.start()
        if replace_screen:
            self.switch_screen(LibraryScreen())
        else:
            self.push_screen(LibraryScreen())

    def _close_session(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.close()
        storage, self._storage = self._storage, None
        if storage is not None:
            storage.close()

    def on_unmount(self) -> None:
        self._close_session()

    @property
    def cache_path(self) -> Path | None:
        """The signed-in user's cache file."""
        if self.session is None:
            return None
        return self.config.user_dir(self.session.user_id) / CACHE_FILE

    # --- clips next to the cache ----------------------------------------------------------------
    def fetch_clips(self, jobs: tuple[ClipJobItem, ...]) -> None:
        """Download every completed clip not downloaded yet (in worker threads)."""
        downloads = self.downloads
        if downloads is None:
            return
        for job in jobs:
            url = job.download_url
            if job.completed and url and downloads.claim(job.id):
                self.run_worker(
                    lambda job_id=job.id, url=url: self._download(downloads, job_id, url),
                    thread=True,
                    name=f"download {job.id}",
                )

    def _download(self, downloads: ClipDownloads, job_id: str, url: str) -> None:
        try:
            downloads.download(job_id, url)
        except DirectorStudioError as error:
            log.warning("clip %s: %s", job_id, error.message)
        self.call_from_thread(self._downloaded)

    def _downloaded(self) -> None:
        from directorstudio.app.base import AppScreen

        screen = self.screen
        if isinstance(screen, AppScreen):
            screen.show_state()

    # --- app-wide keys ----------------------------------------------------------------------------
    def action_sync_now(self) -> None:
        session = self.session
        if session is None:
            return

        def sync() -> None:
            try:
                session.status.sync_now()
            except DirectorStudioError as error:
                log.info("sync now: %s", error.message)

        self.run_worker(sync, thread=True, name="sync now", group="sync-now")

    def action_queue(self) -> None:
        from directorstudio.app.screens.queue import QueueScreen

        if self.session is not None and not isinstance(self.screen, QueueScreen):
            self.push_screen(QueueScreen())

    def action_sign_out(self) -> None:
        from directorstudio.app.screens.signin import SignInScreen

        if self.session is None:
            return
        self._close_session()
        self.transport.sign_out()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(SignInScreen(self.config.email))
