"""The app in a browser: textual-serve runs ``directorstudio app`` once per browser tab."""

from __future__ import annotations

from textual_serve.server import Server


def serve(command: str, *, host: str, port: int) -> None:
    """Serve ``command`` (the terminal app's command line) on ``http://host:port`` until
    interrupted."""
    Server(command, host=host, port=port, title="DirectorStudio").serve()
