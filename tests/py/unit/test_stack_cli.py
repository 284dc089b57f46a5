"""The stack commands of the CLI explain what is missing instead of failing obscurely."""

from __future__ import annotations

from pathlib import Path

import pytest

from directorstudio import cli


def test_keys_without_a_stack_says_to_run_up_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["keys", "--data-dir", str(tmp_path)]) == 1
    assert "directorstudio up" in capsys.readouterr().err


def test_status_without_a_running_stack_is_unhealthy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["status", "--json", "--data-dir", str(tmp_path)]) == 1
    assert '"stack": "not running"' in capsys.readouterr().out


def test_keys_prints_the_kept_keys_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from directorstudio.stack import keys

    created = keys.load_or_create(tmp_path)
    assert cli.main(["keys", "--json", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert created.anon_key in out
    assert created.service_role_key in out


def test_seed_without_a_database_explains_how_to_name_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli.main(["seed", "--data-dir", str(tmp_path)]) == 2
    assert "--database-url" in capsys.readouterr().err
