"""The bundle command builds a folder that one function can be deployed from on its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.paths import PROJECT_ROOT
from directorstudio.server.bundle import bundle, main, project_modules

ENTRY_POINTS = {
    "enqueue_clip": ["enqueue_clip", "retry_dispatch"],
    "clip_webhook": ["clip_webhook"],
    "telemetry_batch": ["telemetry_batch", "telemetry_rollup"],
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_a_bundle_holds_the_function_its_requirements_and_only_the_modules_it_imports(
    tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    bundle(name, out)
    assert (out / "main.py").read_text() == (
        PROJECT_ROOT / "functions" / name / "main.py"
    ).read_text()
    requirements = (out / "requirements.txt").read_text()
    assert "functions-framework" in requirements
    assert "psycopg" in requirements
    assert (out / "directorstudio" / "server" / "endpoints" / "__init__.py").is_file()
    assert (out / "directorstudio" / "contracts" / "errors.py").is_file()
    assert not (out / "directorstudio" / "cli.py").exists()
    assert not (out / "directorstudio" / "migrate.py").exists()
    assert not (out / "directorstudio" / "server" / "bundle.py").exists()


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_a_bundle_imports_from_its_own_folder(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    bundle(name, out)
    checks = "; ".join(f"assert callable(main.{entry})" for entry in ENTRY_POINTS[name])
    script = (
        "import sys; sys.path.insert(0, '.'); import main, directorstudio; "
        f"{checks}; "
        "import pathlib; assert pathlib.Path(directorstudio.__file__).resolve().is_relative_to("
        "pathlib.Path('.').resolve()), directorstudio.__file__"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=out, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_module_scan_follows_relative_and_absolute_imports() -> None:
    modules = project_modules(PROJECT_ROOT / "functions" / "clip_webhook" / "main.py")
    assert "directorstudio.server.webhook_signing" in modules
    assert "directorstudio.db.context" in modules
    assert "directorstudio.contracts.postgrest.errors" in modules
    assert "directorstudio" in modules


def test_an_unknown_function_or_a_non_empty_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DirectorStudioError, match="no function"):
        bundle("no_such_function", tmp_path / "x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(DirectorStudioError, match="not empty"):
        bundle("clip_webhook", tmp_path / "full")


def test_the_command_line_writes_the_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clip_webhook", str(tmp_path / "out")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["nothing", str(tmp_path / "other")]) == 1
