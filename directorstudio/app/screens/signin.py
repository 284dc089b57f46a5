"""Sign-in: anonymously, or with email and password (signing in, or creating the account)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from directorstudio.contracts.errors import DirectorStudioError

if TYPE_CHECKING:
    from directorstudio.app.main import DirectorStudioApp


class SignInScreen(Screen[None]):
    """The first screen when no session is stored for this backend."""

    def __init__(self, email: str | None = None) -> None:
        super().__init__()
        self._email = email or ""

    @property
    def studio(self) -> DirectorStudioApp:
        from directorstudio.app.main import DirectorStudioApp

        assert isinstance(self.app, DirectorStudioApp)
        return self.app

    def compose(self) -> ComposeResult:
        with Vertical(id="signin", classes="dialog"):
            yield Label("DirectorStudio", classes="dialog-title")
            yield Static(f"Sign in to {self.studio.config.url}", id="signin-target")
            yield Input(self._email, placeholder="email", id="email")
            yield Input(placeholder="password", password=True, id="password")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Sign in", variant="primary", id="sign-in")
                yield Button("Create account", id="sign-up")
            yield Button("Continue without an account", id="anonymous")
            yield Static("", id="signin-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#password" if self._email else "#email", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "email":
            self.query_one("#password", Input).focus()
        else:
            self._sign_in("sign-in")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._sign_in(event.button.id or "anonymous")

    def _sign_in(self, how: str) -> None:
        email = self.query_one("#email", Input).value.strip()
        password = self.query_one("#password", Input).value
        if how != "anonymous" and not (email and password):
            self._show_error("Enter an email and a password, or continue without an account.")
            return
        self._show_error("Signing in…")
        self._authenticate(how, email, password)

    @work(thread=True, exclusive=True, group="sign-in")
    def _authenticate(self, how: str, email: str, password: str) -> None:
        transport = self.studio.transport
        try:
            if how == "anonymous":
                transport.sign_in_anonymously()
            elif how == "sign-up":
                transport.sign_up(email, password)
            else:
                transport.sign_in(email, password)
        except DirectorStudioError as error:
            self.app.call_from_thread(self._show_error, error.message)
            return
        self.app.call_from_thread(self.studio.signed_in)

    def _show_error(self, text: str) -> None:
        self.query_one("#signin-error", Static).update(text)
