"""llama.cpp-compatible ``POST /infill`` on a running server (echo models behind the real Engine)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.support.live_server import live_server

SETTINGS = {
    "models": [
        {"name": "coder", "provider": "echo", "spec": "assay-nano", "options": {"reply": "return a + b"}},
        {"name": "parrot", "provider": "echo", "spec": "assay-nano", "options": {"mode": "echo"}},
    ],
}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with live_server(SETTINGS) as srv, httpx.Client(base_url=srv.url, timeout=20) as client:
        yield client


def test_infill_answers_llama_cpp_shape(http: httpx.Client) -> None:
    r = http.post("/infill", json={"input_prefix": "def add(a, b):\n", "prompt": "    ", "input_suffix": "\n",
                                   "input_extra": [{"filename": "util.py", "text": "def sub(a, b):\n    return a - b\n"}],
                                   "n_predict": 16, "temperature": 0.1, "top_k": 40, "samplers": ["top_k", "infill"],
                                   "cache_prompt": True, "t_max_predict_ms": 1000, "n_indent": 4})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["content"] == "return a + b"
    assert body["stop"] is True
    assert body["model"] == "coder"
    assert body["stopped_eos"] is True and body["stopped_limit"] is False
    assert body["tokens_predicted"] >= 1 and body["tokens_evaluated"] >= 1
    assert set(body["timings"]) >= {"prompt_n", "prompt_ms", "predicted_n", "predicted_ms"}
    assert "<fim_prefix>" in body["prompt"] and "util.py" in body["prompt"]
    assert r.headers["x-assay-trace-id"]


def test_prompt_continues_the_prefix(http: httpx.Client) -> None:
    r = http.post("/infill", json={"model": "parrot", "input_prefix": "", "input_suffix": "",
                                   "prompt": "marker_line"})
    assert r.status_code == 200, r.text
    assert "marker_line" in r.json()["prompt"]


def test_n_predict_zero_warms_up_without_generating(http: httpx.Client) -> None:
    r = http.post("/infill", json={"input_prefix": "x", "input_suffix": "", "n_predict": 0})
    assert r.status_code == 200
    assert r.json()["content"] == "" and r.json()["tokens_predicted"] == 0


def test_streaming_infill(http: httpx.Client) -> None:
    with http.stream("POST", "/infill", json={"input_prefix": "def add(a, b):\n    ", "input_suffix": "\n",
                                              "stream": True}) as r:
        assert r.status_code == 200
        lines = [line for line in r.iter_lines() if line]
    events = [json.loads(line.removeprefix("data: ")) for line in lines]
    assert all(line.startswith("data: ") for line in lines)
    assert all(e["stop"] is False for e in events[:-1]) and events[-1]["stop"] is True
    assert "".join(e["content"] for e in events) == "return a + b"
    assert events[-1]["tokens_predicted"] >= 1


def test_bad_infill_body_is_422_and_unknown_model_404(http: httpx.Client) -> None:
    r = http.post("/infill", json={"input_prefix": 3, "n_predict": -5})
    assert r.status_code == 422
    assert {e["loc"][-1] for e in r.json()["detail"]} == {"input_prefix", "n_predict"}
    r = http.post("/infill", json={"model": "nope", "input_prefix": "x"})
    assert r.status_code == 404 and "coder, parrot" in r.json()["detail"]


def test_a_prefix_over_the_context_window_is_reported_truncated(http: httpx.Client) -> None:
    short = http.post("/infill", json={"input_prefix": "x = 1\n", "input_suffix": ""}).json()
    long = http.post("/infill", json={"input_prefix": "x = 1\n" * 5000, "input_suffix": ""}).json()
    assert short["truncated"] is False and long["truncated"] is True
