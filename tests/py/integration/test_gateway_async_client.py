"""supabase-py's async client works against the gateway like the sync one."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from postgrest.exceptions import APIError
from supabase_auth.errors import AuthApiError

from supabase import acreate_client
from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    async_client_options,
    clock_fixture,
    gateway_fixture,
)


async def _client(gateway: RunningGateway) -> Any:
    return await acreate_client(gateway.url, gateway.keys.anon_key, options=async_client_options())


def test_an_async_client_signs_up_calls_rpc_and_signs_out(gateway: RunningGateway) -> None:
    async def scenario() -> None:
        client = await _client(gateway)
        reply = await client.auth.sign_up({"email": "ada@example.com", "password": "secret-123"})
        project_id = str(uuid.uuid4())
        project = await client.rpc("import_sample_project", {"p_project_id": project_id}).execute()
        assert project.data["user_id"] == reply.user.id
        user = await client.auth.get_user()
        assert user.user.email == "ada@example.com"
        await client.auth.sign_out()
        assert await client.auth.get_session() is None
        with pytest.raises(APIError) as raised:
            await client.rpc("import_sample_project", {"p_project_id": project_id}).execute()
        assert raised.value.code == "42501"

    asyncio.run(scenario())


def test_an_async_sign_in_with_a_wrong_password_is_invalid_credentials(
    gateway: RunningGateway,
) -> None:
    async def scenario() -> None:
        client = await _client(gateway)
        await client.auth.sign_up({"email": "ada@example.com", "password": "secret-123"})
        with pytest.raises(AuthApiError) as raised:
            await client.auth.sign_in_with_password(
                {"email": "ada@example.com", "password": "wrong-123"}
            )
        assert raised.value.code == "invalid_credentials"

    asyncio.run(scenario())
