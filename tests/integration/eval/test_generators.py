"""Completions from the production pipeline in-process and from a running gateway over a real socket.

Models are the real ``echo`` provider (deterministic replies; a reply list answers in turn, which makes
cache hits visible). Scoring runs in the real sandbox.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from assay.config import Settings
from assay.eval.generate import GatewayGenerator, PipelineGenerator
from assay.eval.report import load_report, render_html
from assay.eval.runner import EvalOptions, run_eval
from assay.eval.store import RunStore
from assay.eval.tasks import get_task
from assay.eval.tasks.base import DATA_DIR
from tests.support.live_server import live_server

REPLIES = ["    return 1\n", "    return 2\n"]


def _settings(**options: Any) -> Settings:
    return Settings(models=[{"name": "e", "provider": "echo", "spec": "assay-nano",
                             "options": {"reply": REPLIES, **options}}])


def _task():
    return get_task("humaneval", path=str(DATA_DIR / "humaneval" / "example_problem.jsonl"))


def test_pipeline_generator_stores_outputs_timings_and_traces(db_url: str) -> None:
    store = RunStore(db_url)
    result = asyncio.run(run_eval(_task(), PipelineGenerator(_settings(), "e"), store,
                                  EvalOptions(n=4, temperature=0.8, ks=(1, 2))))
    rows = store.samples(result.run_id)
    assert sorted(r.output for r in rows) == ["    return 1", "    return 1", "    return 2", "    return 2"]
    assert all(r.passed == (r.output == "    return 1") for r in rows)
    assert result.scores["pass@1"].mean == pytest.approx(0.5)
    assert result.scores["pass@2"].mean == pytest.approx(1 - 1 / 6)
    for r in rows:
        assert r.latency_ms > 0 and r.ttft_ms is not None and 0 < r.ttft_ms <= r.latency_ms
        assert r.prompt_tokens > 0 and r.completion_tokens > 0
        assert r.trace["model"] == "e" and r.trace["raw_outputs"][0].startswith("    return")
        assert [t["stage"] for t in r.trace["timings"]][-1] == "postprocess"
        assert r.prompt == "def return1():\n" and not r.cached
    html = render_html(load_report(result.run_id, store))
    assert "return 2" in html and "<svg" in html and "pass@1" in html


def test_model_calls_are_cached_by_model_prompt_and_parameters(db_url: str) -> None:
    store = RunStore(db_url)
    first = asyncio.run(run_eval(_task(), PipelineGenerator(_settings(), "e"), store, EvalOptions(n=2),
                                 run_id="first"))
    second = asyncio.run(run_eval(_task(), PipelineGenerator(_settings(), "e"), store, EvalOptions(n=2),
                                  run_id="second"))
    a, b = store.samples(first.run_id), store.samples(second.run_id)
    # Greedy (temperature 0): both samples share one cache key, so the echo model is called once.
    assert [r.output for r in a] == ["    return 1", "    return 1"]
    assert [r.cached for r in a] == [False, True] or [r.cached for r in a] == [True, False]
    assert [r.output for r in b] == ["    return 1", "    return 1"] and all(r.cached for r in b)
    other = asyncio.run(run_eval(_task(), PipelineGenerator(_settings(), "e"), store,
                                 EvalOptions(n=1, max_tokens=7), run_id="third"))
    assert not store.samples(other.run_id)[0].cached


def test_reusing_a_run_id_with_other_settings_is_refused(db_url: str) -> None:
    from assay.errors import RequestInvalid

    store = RunStore(db_url)
    asyncio.run(run_eval(_task(), PipelineGenerator(_settings(), "e"), store, EvalOptions(n=1), run_id="r"))
    with pytest.raises(RequestInvalid, match="run 'r' already exists with different settings \\(n\\)"):
        asyncio.run(run_eval(_task(), PipelineGenerator(_settings(), "e"), store, EvalOptions(n=2), run_id="r"))


@pytest.mark.parametrize("api", ["openai", "gitlab"])
def test_gateway_generator_measures_a_running_gateway(api: str, db_url: str) -> None:
    store = RunStore(db_url)
    with live_server(_settings(chunk_size=3)) as server:
        gen = GatewayGenerator(server.url, model="e", api=api)
        result = asyncio.run(run_eval(_task(), gen, store, EvalOptions(n=2, temperature=0.5, workers=1)))
    rows = store.samples(result.run_id)
    assert sorted(r.output for r in rows) == ["    return 1", "    return 2"]
    assert result.scores["pass@1"].mean == pytest.approx(0.5)
    assert all(r.latency_ms > 0 for r in rows)
    if api == "openai":
        assert all(r.trace and r.trace.get("id") and 0 < r.ttft_ms <= r.latency_ms for r in rows)
    else:
        assert all(r.ttft_ms is None for r in rows)


def test_gateway_errors_stop_the_run_with_a_clear_message(db_url: str) -> None:
    from assay.errors import ProviderError

    store = RunStore(db_url)
    with live_server(_settings()) as server:
        gen = GatewayGenerator(server.url, model="nope")
        with pytest.raises(ProviderError, match=r"/v1/completions answered 404"):
            asyncio.run(run_eval(_task(), gen, store, EvalOptions(n=1)))
