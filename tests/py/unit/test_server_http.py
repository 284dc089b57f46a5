"""JSON error responses and body handling, on plain Flask requests."""

from __future__ import annotations

import json
import uuid

import flask
import pydantic
import pytest
from werkzeug.test import EnvironBuilder

from directorstudio.contracts.clips import EnqueueClipRequest
from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.server import dispatcher
from directorstudio.server.http import endpoint, json_response, read_model

app = flask.Flask(__name__)


def _request(data: bytes, *, content_type: str = "application/json", method: str = "POST"):  # type: ignore[no-untyped-def]
    return app.test_request_context("/", method=method, data=data, content_type=content_type)


@endpoint
def _enqueue_echo(request: flask.Request) -> flask.Response:
    body = read_model(request, EnqueueClipRequest, 1024)
    return json_response(body.model_dump(mode="json"))


def _call(data: bytes, **kwargs: str) -> flask.Response:
    with _request(data, **kwargs):
        return _enqueue_echo(flask.request)


def test_a_valid_body_passes_through() -> None:
    body = {"job_id": str(uuid.uuid4()), "prompt": "p", "user_key": "k"}
    response = _call(json.dumps(body).encode())
    assert response.status_code == 200
    assert response.get_json()["job_id"] == body["job_id"]


def test_validation_errors_are_422_with_the_fields_but_not_the_input() -> None:
    response = _call(json.dumps({"job_id": "x", "prompt": "secret prompt", "user_key": 1}).encode())
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["code"] == "invalid_input"
    assert {tuple(item["loc"]) for item in answer["detail"]} == {("job_id",), ("user_key",)}
    assert "secret prompt" not in response.get_data(as_text=True)


def test_an_oversized_chunked_body_is_413() -> None:
    big = json.dumps({"prompt": "x" * 2000}).encode()
    environ = EnvironBuilder(method="POST", data=big, content_type="application/json").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input_terminated"] = True
    response = _enqueue_echo(flask.Request(environ))
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (ErrorCode.INVALID_INPUT, 400),
        (ErrorCode.NOT_AUTHENTICATED, 401),
        (ErrorCode.INSUFFICIENT_CREDITS, 402),
        (ErrorCode.FORBIDDEN, 403),
        (ErrorCode.NOT_FOUND, 404),
        (ErrorCode.ID_CONFLICT, 409),
        (ErrorCode.INVALID_TRANSITION, 409),
        (ErrorCode.UNAVAILABLE, 503),
    ],
)
def test_a_directorstudio_error_keeps_its_code_and_status(code: ErrorCode, status: int) -> None:
    @endpoint
    def failing(request: flask.Request) -> flask.Response:
        raise DirectorStudioError("nope", code=code, detail={"why": 1})

    with _request(b"{}"):
        response = failing(flask.request)
    assert response.status_code == status
    assert response.get_json() == {"code": str(code), "message": "nope", "detail": {"why": 1}}


def test_an_unexpected_error_is_500_and_reveals_nothing() -> None:
    @endpoint
    def crashing(request: flask.Request) -> flask.Response:
        raise RuntimeError("password=hunter2")

    with _request(b"{}"):
        response = crashing(flask.request)
    assert response.status_code == 500
    assert response.get_json()["code"] == "internal"
    assert "hunter2" not in response.get_data(as_text=True)


def test_the_router_serves_functions_by_name_and_gateway_path() -> None:
    for path in ("/nope", "/functions/v1/nope", "/functions/v2/enqueue_clip"):
        with _request(b"{}"):
            flask.request.environ["PATH_INFO"] = path
            response = dispatcher.route(flask.request)
        assert response.status_code == 404
    assert set(dispatcher.ROUTES) == {
        "enqueue_clip",
        "clip_webhook",
        "dispatch_clip",
        "retry_dispatch",
        "telemetry_batch",
        "telemetry_rollup",
    }


def test_pydantic_rejects_extra_fields_in_requests() -> None:
    with pytest.raises(pydantic.ValidationError):
        EnqueueClipRequest.model_validate(
            {"job_id": str(uuid.uuid4()), "prompt": "p", "user_key": "k", "charge": "free"}
        )
