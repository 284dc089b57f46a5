"""Every HTTP function (enumerated from the functions' router) answers fuzzed requests, through
the gateway and directly, with 2xx or a documented 4xx, and a refused call changes no row.

Bodies come from the function's pydantic request model (fields right, wrong or missing),
generic JSON and garbage; methods, content types and sizes vary too.
"""

from __future__ import annotations

from typing import Any

import pydantic
from hypothesis import strategies as st

from directorstudio.contracts.clips import ClipEvent, EnqueueClipRequest
from directorstudio.contracts.telemetry import RollupRequest, TelemetryBatchRequest
from directorstudio.server.endpoints.access import SCHEDULER_HEADER
from tests.py.fuzz import strategies
from tests.py.fuzz.conftest import FuzzData, budget
from tests.py.fuzz.harness import checked_call, encode, preview, run_cases
from tests.support.api_stack import ApiStack
from tests.support.functions import signed_headers
from tests.support.oracle import function_problem
from tests.support.routes import function_names

# The request model of each function; a function without one is fuzzed with generic JSON.
REQUEST_MODELS: dict[str, type[pydantic.BaseModel]] = {
    "enqueue_clip": EnqueueClipRequest,
    "clip_webhook": ClipEvent,
    "telemetry_batch": TelemetryBatchRequest,
    "telemetry_rollup": RollupRequest,
}
SCHEDULED = frozenset({"retry_dispatch", "telemetry_rollup"})
# Over the functions' body limits, and over the gateway's.
OVERSIZE = b'{"pad": "' + b"p" * (300 * 1024) + b'"}'
GATEWAY_OVERSIZE = b'{"pad": "' + b"p" * (1200 * 1024) + b'"}'


def requests(name: str, known: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A fuzzed request to function ``name``: body, method, content type and route."""
    model = REQUEST_MODELS.get(name)
    shaped = strategies.model_values(model, known) if model else strategies.json_values
    body = st.one_of(
        shaped.map(encode),
        shaped.map(encode),
        shaped.map(encode),
        strategies.garbage.map(encode),
        st.binary(max_size=64),
        st.just(OVERSIZE),
        st.just(GATEWAY_OVERSIZE),
        st.just(b""),
    )
    return st.fixed_dictionaries(
        {
            "body": body,
            "method": st.sampled_from(["POST"] * 8 + ["GET", "PUT", "DELETE"]),
            "content_type": st.sampled_from(
                ["application/json"] * 8 + ["text/plain", "application/x-www-form-urlencoded"]
            ),
            "through_gateway": st.booleans(),
            "signed": st.sampled_from([True, True, True, False]),
        }
    )


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def credentials(
    stack: ApiStack, data: FuzzData, name: str, request: dict[str, Any]
) -> dict[str, str]:
    """What a legitimate caller of ``name`` sends (a signature only when ``signed``)."""
    headers = {"apikey": stack.keys.anon_key}
    if name == "clip_webhook":
        # Standard Webhooks signs text: a body that is not UTF-8 goes unsigned.
        if request["signed"] and _is_utf8(request["body"]):
            headers.update(signed_headers(request["body"], secret=stack.webhook_secret))
    elif name in SCHEDULED:
        headers[SCHEDULER_HEADER] = stack.scheduler_secret
    else:
        headers["Authorization"] = f"Bearer {data.token}"
    headers["Content-Type"] = request["content_type"]
    return headers


def test_every_http_function_answers_fuzzed_requests_only_with_documented_codes(
    stack: ApiStack, fuzz_data: FuzzData
) -> None:
    names = function_names()
    assert {"enqueue_clip", "clip_webhook", "telemetry_batch"} <= set(names)
    failures: dict[str, str] = {}
    for name in names:

        def case(request: dict[str, Any], name: str = name) -> None:
            base = stack.url if request["through_gateway"] else stack.functions_url
            url = f"{base}/functions/v1/{name}"
            headers = credentials(stack, fuzz_data, name, request)
            checked_call(
                "functions",
                stack,
                function_problem,
                lambda: stack.http.request(
                    request["method"], url, content=request["body"], headers=headers
                ),
                request["body"],
                f"{request['method']} {url} {headers.get('Content-Type')} "
                f"{preview(request['body'])}",
            )

        failure = run_cases(requests(name, fuzz_data.known_ids), case, budget("function"))
        if failure is not None:
            failures[name] = failure
    assert not failures, "\n\n".join(f"{name}: {text}" for name, text in failures.items())
