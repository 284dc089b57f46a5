"""Reading GoTrue's error replies in either of its shapes."""

from __future__ import annotations

import httpx

API_VERSION_NAME = "X-Supabase-Api-Version"
# What supabase-js and supabase-py send on every auth call.
VERSIONED = {API_VERSION_NAME: "2024-01-01"}


def error_code(reply: httpx.Response) -> str:
    """The error code of a GoTrue refusal, checking its shape against the API version the reply
    names: ``{code, message}`` for 2024-01-01, ``{code: status, error_code, msg}`` without."""
    body = reply.json()
    if reply.headers.get(API_VERSION_NAME) == "2024-01-01":
        assert isinstance(body["code"], str), body
        assert isinstance(body["message"], str), body
        assert body["message"], body
        assert "error_code" not in body, body
        return str(body["code"])
    assert body["code"] == reply.status_code, body
    assert isinstance(body["msg"], str), body
    assert body["msg"], body
    return str(body["error_code"])
