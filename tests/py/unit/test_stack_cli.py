"""The stack commands of the CLI explain what is missing instead of failing obscurely."""

from __future__ import annotations

import socket
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


def test_up_on_a_port_in_use_says_so_and_starts_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = cli.main(["up", "--port", str(port), "--data-dir", str(tmp_path / "stack")])
    assert code == 1
    assert f"port {port} (API) is already in use" in capsys.readouterr().err
    assert not (tmp_path / "stack").exists()


def test_an_unreachable_database_is_one_clear_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        url = f"postgresql://nobody@127.0.0.1:{port}/x"
        assert cli.main(["migrate", "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert "database error" in err
    assert "Traceback" not in err


def test_keys_shows_the_standard_webhooks_secret_the_stacks_functions_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from directorstudio.server import webhook_signing
    from directorstudio.stack import keys
    from directorstudio.stack.stack import functions_env

    created = keys.load_or_create(tmp_path)
    assert cli.main(["keys", "--json", "--data-dir", str(tmp_path)]) == 0
    shown = json.loads(capsys.readouterr().out)["webhook_secret"]
    assert shown == created.webhook_secret
    assert shown.startswith("whsec_")
    assert len(webhook_signing.parse_secrets(shown)) == 1
    env = functions_env(created, "http://127.0.0.1:54321", "postgresql://db", tmp_path)
    assert env["CLIP_WEBHOOK_SECRET"] == shown


def test_keys_names_the_jwks_but_shows_the_private_signing_key_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from directorstudio.stack import keys

    created = keys.load_or_create(tmp_path)
    assert created.signing_key is not None
    private = created.signing_key["d"]
    for arguments in (["keys"], ["keys", "--json"]):
        assert cli.main([*arguments, "--data-dir", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert "/auth/v1/.well-known/jwks.json" in out
        assert private not in out
    assert cli.main(["keys", "--json", "--data-dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["jwks"] == created.jwks
    assert cli.main(["keys", "--show-signing-key", "--json", "--data-dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["signing_key"] == created.signing_key
    assert cli.main(["keys", "--show-signing-key", "--data-dir", str(tmp_path)]) == 0
    assert private in capsys.readouterr().out
