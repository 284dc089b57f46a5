"""Rendered clips downloaded next to the cache: ``<user folder>/clips/<job id>.mp4``."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode

DOWNLOAD_TIMEOUT = 60.0


class ClipDownloads:
    """Fetches each completed clip once; a failed download is tried again on request."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._busy: set[str] = set()
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()

    def path_for(self, job_id: str) -> Path:
        """Where the clip of ``job_id`` is (or will be) kept."""
        return self.folder / f"{job_id}.mp4"

    def downloaded(self, job_id: str) -> Path | None:
        """The clip's file when it has been downloaded."""
        path = self.path_for(job_id)
        return path if path.exists() else None

    def failure(self, job_id: str) -> str | None:
        """Why the last download of ``job_id`` failed, if it did."""
        with self._lock:
            return self._failed.get(job_id)

    def claim(self, job_id: str) -> bool:
        """Whether the caller should download ``job_id`` now (not downloaded, not in flight)."""
        with self._lock:
            if job_id in self._busy or self.path_for(job_id).exists():
                return False
            self._busy.add(job_id)
            return True

    def download(self, job_id: str, url: str) -> Path:
        """Fetch the clip (after :meth:`claim`); the file appears whole or not at all."""
        target = self.path_for(job_id)
        partial = target.with_suffix(".part")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with httpx.stream("GET", url, timeout=DOWNLOAD_TIMEOUT) as response:
                response.raise_for_status()
                with partial.open("wb") as handle:
                    for chunk in response.iter_bytes():
                        handle.write(chunk)
            partial.replace(target)
        except (httpx.HTTPError, OSError) as error:
            with self._lock:
                self._failed[job_id] = str(error)
            raise DirectorStudioError(
                f"downloading the clip failed: {error}", code=ErrorCode.UNAVAILABLE
            ) from error
        finally:
            with self._lock:
                self._busy.discard(job_id)
        with self._lock:
            self._failed.pop(job_id, None)
        return target
