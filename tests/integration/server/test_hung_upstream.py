"""QA's hung upstream, end to end: ``provider: openai`` whose ``base_url`` is a TCP listener that accepts
connections and never answers, served by a real assay server on a real socket.

Every route must answer 504 naming the upstream and the time budget within about that budget (not a
200 with an empty suggestion, ``choices: []`` or an empty v4 stream), and readiness must report the
model as not ready, within its bound, while a healthy model beside it stays ``ok``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.providers.scripted_upstreams import silent_listener
from tests.support.live_server import live_server

BUDGET_S = 1.5
SENT_NOTHING = rf"model 'hang': upstream http://127.0.0.1:\d+/v1/completions sent nothing within the time budget of {BUDGET_S:g} s"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with silent_listener() as hung:
        settings = {"models": [
            {"name": "hang", "provider": "openai", "base_url": f"{hung}/v1", "model": "m", "spec": "starcoder",
             "defaults": {"time_budget_s": BUDGET_S}},
            {"name": "good", "provider": "echo", "spec": "starcoder", "options": {"reply": "return 1"}},
        ], "features": {"code_completions": "good", "chat": "good"}}
        with live_server(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            yield client


def _gitlab_file() -> dict:
    return {"file_name": "a.py", "content_above_cursor": "def f(", "content_below_cursor": ""}


def _timed(send) -> tuple[httpx.Response, float]:  # noqa: ANN001
    start = time.monotonic()
    response = send()
    return response, time.monotonic() - start


def test_openai_completion_is_a_504_within_the_budget(http: httpx.Client) -> None:
    r, took = _timed(lambda: http.post("/v1/completions", json={"model": "hang", "prompt": "def f("}))
    assert r.status_code == 504, r.text
    assert r.json()["error"]["type"] == "server_error"
    assert took < BUDGET_S + 1.5
    assert re.search(SENT_NOTHING, r.json()["error"]["message"])


@pytest.mark.parametrize("stream", [False, True])
def test_gitlab_v2_is_a_504_not_empty_choices(http: httpx.Client, stream: bool) -> None:
    body = {"model_name": "hang", "current_file": _gitlab_file(), "stream": stream}
    r, took = _timed(lambda: http.post("/v2/code/completions", json=body))
    assert r.status_code == 504, r.text
    assert "sent nothing within the time budget of 1.5 s" in r.json()["detail"]
    assert took < BUDGET_S + 1.5


def test_gitlab_v4_stream_is_a_504_not_an_empty_stream(http: httpx.Client) -> None:
    body = {"prompt_components": [{"type": "code_editor_completion",
                                   "payload": {**_gitlab_file(), "model_name": "hang", "stream": True}}]}
    r = http.post("/v4/code/suggestions", json=body)
    assert r.status_code == 504, r.text
    assert "stream_start" not in r.text
    assert "sent nothing" in r.json()["detail"]


def test_readiness_reports_the_hung_model_within_its_bound(http: httpx.Client) -> None:
    r, took = _timed(lambda: http.get("/monitoring/ready"))
    assert r.status_code == 503, r.text
    models = r.json()["models"]
    assert models["good"] == "ok"
    assert "sent nothing within the time budget" in models["hang"]
    assert took < BUDGET_S + 2


def test_the_server_still_answers_after_the_hung_upstream(http: httpx.Client) -> None:
    r = http.post("/v2/code/completions", json={"current_file": _gitlab_file()})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] == "return 1"
