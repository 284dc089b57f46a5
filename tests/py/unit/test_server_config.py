"""Settings come from the environment; secrets never show in their representation."""

from __future__ import annotations

from pathlib import Path

import pytest

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.server.config import Settings


def test_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u:p@h/db",
            "SUPABASE_JWT_SECRET": "jwt-secret",
            "SUPABASE_JWKS_URL": "https://p.supabase.co/auth/v1/.well-known/jwks.json",
            "CLIP_WEBHOOK_SECRET": "hook-secret",
            "RENDER_PROVIDER": "http",
            "RENDER_PROVIDER_URL": "https://render.example/jobs",
            "RENDER_OUTPUT_DIR": "/srv/renders",
            "DISPATCH_MAX_ATTEMPTS": "7",
            "RENDER_CLIP_SECONDS": "4.5",
        }
    )
    assert settings.render_provider == "http"
    assert settings.render_output_dir == Path("/srv/renders")
    assert settings.dispatch_max_attempts == 7
    assert settings.render_clip_seconds == 4.5
    assert settings.jwt_audience == "authenticated"


def test_secrets_are_not_in_the_representation() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u:db-password@h/db",
            "SUPABASE_JWT_SECRET": "jwt-secret-value",
            "CLIP_WEBHOOK_SECRET": "hook-secret-value",
            "SCHEDULER_SECRET": "scheduler-secret-value",
            "SUPABASE_SERVICE_ROLE_KEY": "service-key-value",
        }
    )
    shown = repr(settings)
    for secret in (
        "db-password",
        "jwt-secret-value",
        "hook-secret-value",
        "scheduler-secret-value",
    ):
        assert secret not in shown
    assert "service-key-value" not in shown


def test_an_unknown_provider_or_a_bad_number_is_refused() -> None:
    with pytest.raises(DirectorStudioError):
        Settings.from_env({"RENDER_PROVIDER": "cloud"})
    with pytest.raises(DirectorStudioError):
        Settings.from_env({"DISPATCH_ATTEMPTS": "many"})


def test_a_missing_required_setting_is_unavailable_and_names_only_the_setting() -> None:
    with pytest.raises(DirectorStudioError, match="CLIP_WEBHOOK_SECRET") as raised:
        Settings.from_env({}).require("clip_webhook_secret")
    assert raised.value.http_status == 503
