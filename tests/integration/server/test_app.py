"""The app factory and cross-cutting behaviour: lifespan, ``X-Process-Time`` everywhere, OpenAPI docs,
readiness with a failing model, and no heavy imports when the server module loads."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from assay.config import Settings
from assay.pipeline.engine import Engine
from tests.support.live_server import live_server

SETTINGS = Settings(**{
    "server": {"max_body_bytes": 10_000},
    "models": [
        {"name": "good", "provider": "echo", "spec": "assay-nano", "options": {"reply": "ok"}},
        {"name": "broken", "provider": "echo", "spec": "assay-nano", "options": {"fail_status": 503}},
    ],
})


class CountingEngine(Engine):
    starts = 0
    closes = 0

    async def start(self) -> None:
        type(self).starts += 1
        await super().start()

    async def close(self) -> None:
        type(self).closes += 1
        await super().close()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with live_server(SETTINGS, CountingEngine(SETTINGS)) as srv, httpx.Client(base_url=srv.url, timeout=20) as c:
        yield c
    assert CountingEngine.closes == 1


def test_lifespan_started_the_engine_once(http: httpx.Client) -> None:
    assert CountingEngine.starts == 1 and CountingEngine.closes == 0


def test_every_response_carries_x_process_time(http: httpx.Client) -> None:
    good = {"current_file": {"file_name": "a.py", "content_above_cursor": "", "content_below_cursor": ""}}
    responses = [
        http.get("/monitoring/healthz"),
        http.post("/v2/code/completions", json=good),
        http.post("/v2/code/completions", json={}),
        http.post("/v2/code/completions", content=b"x" * 10_001),
        http.post("/v2/code/completions", json={**good, "model_name": "broken"}),
        http.post("/v2/code/completions", json={**good, "stream": True}),
        http.get("/nowhere"),
        http.get("/v2/code/completions"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 422, 413, 502, 200, 404, 405]
    for r in responses:
        assert float(r.headers["x-process-time"]) >= 0.0


def test_openapi_docs_are_on(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    assert {"/v1/completions", "/v2/code/completions", "/v4/code/suggestions", "/infill"} <= set(spec["paths"])
    assert http.get("/docs").status_code == 200


def test_readiness_names_the_model_that_does_not_answer(http: httpx.Client) -> None:
    r = http.get("/monitoring/ready")
    assert r.status_code == 503
    models = r.json()["models"]
    assert models["good"] == "ok"
    assert "broken" in models["broken"] and "503" in models["broken"]


def test_importing_the_server_loads_neither_torch_nor_transformers() -> None:
    code = ("import sys, assay.server.app, assay.server; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
