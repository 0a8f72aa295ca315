"""Run storage, the runner's bookkeeping and the HTML report, with a pure (non-executing) task."""

from __future__ import annotations

import asyncio
import json

import pytest

from assay.errors import ConfigError, RequestInvalid
from assay.eval.generate import Generated, Generator, GenParams, SamplesFile
from assay.eval.report import load_report, render_html
from assay.eval.runner import EvalOptions, default_run_id, run_eval
from assay.eval.store import RunStore, cache_key
from assay.eval.tasks.base import Problem, Score, Task
from assay.store.urls import as_url


class Upper(Task):
    """Complete a word in upper case; exact match."""

    name = "upper"
    kind = "match"

    def problems(self) -> list[Problem]:
        return [Problem(task_id=f"w/{i}", prompt=w, reference=w.upper(), cluster=f"c{i % 2}")
                for i, w in enumerate(["ab", "cd", "<script>", "ef"])]

    def score(self, problem: Problem, completion: str) -> Score:
        ok = completion == problem.reference
        return Score(passed=ok, outcome="match" if ok else "mismatch", metrics={"em": float(ok)})


class Model(Generator):
    """Upper-cases the prompt except on odd samples; counts its calls."""

    model = "upper-model"
    cache_label = "upper-model"

    def __init__(self) -> None:
        self.calls = 0

    async def generate(self, problem: Problem, params: GenParams, index: int) -> Generated:
        self.calls += 1
        text = problem.prompt.upper() if index % 2 == 0 else problem.prompt
        return Generated(text=text, latency_ms=5.0 + index, ttft_ms=1.0, completion_tokens=1)


def test_store_urls_and_errors(tmp_path) -> None:
    assert as_url("runs.db") == "sqlite:///runs.db"
    assert as_url("postgresql://h/db") == "postgresql://h/db"
    with pytest.raises(ConfigError, match="cannot open run database nosuchdriver://x"):
        RunStore("nosuchdriver://x")
    store = RunStore(str(tmp_path / "r.db"))
    with pytest.raises(RequestInvalid, match="no run 'x' in sqlite:///.*recent runs: none"):
        store.run("x")


def test_cache_key_depends_on_every_part() -> None:
    base = cache_key("m", "p", "s", {"t": 0})
    assert base == cache_key("m", "p", "s", {"t": 0})
    assert len({base, cache_key("m2", "p", "s", {"t": 0}), cache_key("m", "p2", "s", {"t": 0}),
                cache_key("m", "p", "s2", {"t": 0}), cache_key("m", "p", "s", {"t": 1})}) == 5


def test_runner_scores_caches_and_resumes(tmp_path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 'r.db'}")
    model = Model()
    opts = EvalOptions(n=2, temperature=0.5, ks=(1, 2), workers=3)
    result = asyncio.run(run_eval(Upper(), model, store, opts))
    assert result.run_id == default_run_id(Upper(), model, opts)
    assert result.run_id.startswith("upper-upper-model-")
    assert (result.problems, result.samples, model.calls) == (4, 8, 8)
    assert result.scores["pass@1"].mean == 0.5 and result.scores["pass@2"].mean == 1.0
    assert result.scores["em"].clusters == 2
    again = asyncio.run(run_eval(Upper(), model, store, opts))
    assert model.calls == 8 and again.as_dict() == result.as_dict()
    other = Model()
    asyncio.run(run_eval(Upper(), other, store, opts, run_id="copy"))
    assert other.calls == 0 and all(s.cached for s in store.samples("copy"))


def test_limit_and_worker_validation(tmp_path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 'r.db'}")
    result = asyncio.run(run_eval(Upper(), Model(), store, EvalOptions(limit=2)))
    assert result.problems == 2
    with pytest.raises(RequestInvalid, match="workers: workers must be at least 1"):
        asyncio.run(run_eval(Upper(), Model(), store, EvalOptions(workers=0)))


def test_samples_file_drives_n_per_problem(tmp_path) -> None:
    path = tmp_path / "s.jsonl"
    rows = [{"task_id": "w/0", "completion": "AB"}, {"task_id": "w/0", "completion": "x"},
            {"task_id": "w/1", "completion": "CD"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = RunStore(f"sqlite:///{tmp_path / 'r.db'}")
    result = asyncio.run(run_eval(Upper(), SamplesFile(path), store, EvalOptions(n=50)))
    assert (result.problems, result.samples) == (2, 3)
    assert result.scores["pass@1"].mean == pytest.approx((0.5 + 1.0) / 2)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "w/0"}\n')
    with pytest.raises(RequestInvalid, match="row 1 needs 'task_id' and 'completion'"):
        SamplesFile(bad)


def test_html_report_escapes_and_lists_failures(tmp_path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 'r.db'}")
    result = asyncio.run(run_eval(Upper(), Model(), store, EvalOptions(n=2, temperature=0.5, ks=(1,))))
    html = render_html(load_report(result.run_id, store))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Failed samples (4 shown of 4)" in html
    assert "<svg" in html and "model latency (ms)" in html
    assert "pass@1" in html and "50.00 ±" in html
