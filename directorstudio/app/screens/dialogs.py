"""Small modal dialogs: one line of text, or a scene's prompt and length."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


class TextDialog(ModalScreen[str | None]):
    """Asks for one line of text; dismissed with the text, or ``None`` on Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self._title, self._value, self._placeholder = title, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            yield Input(self._value, placeholder=self._placeholder, id="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.dismiss(self.query_one("#dialog-text", Input).value)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SceneDialog(ModalScreen[tuple[str, float] | None]):
    """Asks for a scene's prompt and length in seconds (Enter in the length saves)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, prompt: str = "", duration: float = 4.0) -> None:
        super().__init__()
        self._title, self._prompt, self._duration = title, prompt, duration

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            yield Input(self._prompt, placeholder="What happens in the scene", id="scene-prompt")
            yield Input(f"{self._duration:g}", type="number", id="scene-duration")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def _values(self) -> tuple[str, float] | None:
        prompt = self.query_one("#scene-prompt", Input).value
        try:
            duration = float(self.query_one("#scene-duration", Input).value or "0")
        except ValueError:
            duration = 0.0
        return prompt, duration

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "scene-prompt":
            self.query_one("#scene-duration", Input).focus()
        else:
            self.dismiss(self._values())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self._values() if event.button.id == "ok" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
