"""Rendering a short H.264 MP4 that shows a prompt, with imageio-ffmpeg's bundled ffmpeg."""

from __future__ import annotations

import os
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode

DEFAULT_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LINE_CHARS = 38
MAX_LINES = 7


@dataclass(frozen=True)
class VideoSpec:
    """Shape of a rendered clip."""

    seconds: float = 3.0
    width: int = 640
    height: int = 360
    fps: int = 24
    background: str = "0x1d2b53"


class RenderFailedError(DirectorStudioError):
    """ffmpeg could not produce the clip."""

    code = ErrorCode.INTERNAL


def find_font(env_value: str | None = None) -> Path | None:
    """The font to draw with: ``RENDER_FONT_FILE``, else DejaVu Sans, else none (no text)."""
    for candidate in (env_value or os.environ.get("RENDER_FONT_FILE"), str(DEFAULT_FONT)):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def wrap_prompt(prompt: str, width: int = LINE_CHARS, max_lines: int = MAX_LINES) -> str:
    """``prompt`` wrapped into at most ``max_lines`` lines (an ellipsis marks a cut)."""
    words = " ".join(prompt.split())
    lines = textwrap.wrap(words, width=width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return "\n".join(lines)


def _quoted(value: str) -> str:
    """A filter option value in single quotes (a quote inside ends, escapes and reopens)."""
    return "'" + value.replace("'", "'\\''") + "'"


def _filter(spec: VideoSpec, font: Path | None, text_file: Path) -> str:
    if font is None:
        return "format=yuv420p"
    size = max(16, spec.height // 14)
    drawtext = ":".join(
        [
            f"drawtext=fontfile={_quoted(str(font))}",
            f"textfile={_quoted(str(text_file))}",
            "expansion=none",
            "fontcolor=white",
            f"fontsize={size}",
            f"line_spacing={size // 3}",
            "x=(w-text_w)/2",
            "y=(h-text_h)/2",
        ]
    )
    return f"{drawtext},format=yuv420p"


def render_clip(
    prompt: str, output: Path, spec: VideoSpec | None = None, *, font: Path | None = None
) -> Path:
    """Render ``prompt`` on a plain background into ``output`` (written atomically)."""
    spec = spec or VideoSpec()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="directorstudio-render-") as scratch:
        text_file = Path(scratch) / "prompt.txt"
        text_file.write_text(wrap_prompt(prompt), encoding="utf-8")
        partial = output.with_name(f".{output.stem}.partial{output.suffix}")
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"color=c={spec.background}:s={spec.width}x{spec.height}:r={spec.fps}:d={spec.seconds}",
            "-vf",
            _filter(spec, font, text_file),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            "-t",
            str(spec.seconds),
            str(partial),
        ]
        result = subprocess.run(command, capture_output=True, timeout=120, check=False)
        if result.returncode != 0 or not partial.is_file():
            partial.unlink(missing_ok=True)
            message = result.stderr.decode(errors="replace").strip()[-500:]
            raise RenderFailedError(f"ffmpeg failed: {message or result.returncode}")
        os.replace(partial, output)
    return output
