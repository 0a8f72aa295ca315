"""Cost per request in evaluation runs: a priced echo model through the pipeline, a running gateway priced
with ``--price`` (real socket), a samples file (cost unknown), and ``assay compare``'s loader. Real
sandbox, real SQLite run databases."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assay.cli.eval import eval_app
from assay.eval.store import RunStore
from assay.eval.tasks.base import DATA_DIR
from assay.stats.scores import load_run

runner = CliRunner()
PROMPT_PER_1K, COMPLETION_PER_1K = 2.0, 5.0
CONFIG = f"""models:
  - name: e
    provider: echo
    spec: assay-nano
    options:
      reply: "    return []\\n"
    cost: {{prompt_per_1k: {PROMPT_PER_1K}, completion_per_1k: {COMPLETION_PER_1K}, currency: EUR}}
"""
COST_KEYS = ("cost_per_request", "cost_total", "cost_currency", "costed_requests")


def _eval(*args: str) -> dict:
    res = runner.invoke(eval_app, ["eval", "humaneval", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_a_priced_model_stores_each_samples_cost_and_reports_totals_and_means(tmp_path) -> None:
    config = tmp_path / "assay.yaml"
    config.write_text(CONFIG)
    db = str(tmp_path / "runs.db")
    out = _eval("--model", "e", "--config", str(config), "--limit", "3", "--db", db)

    store = RunStore(db)
    rows = store.samples(out["run_id"])
    assert store.run(out["run_id"]).price == {"prompt_per_1k": 2.0, "completion_per_1k": 5.0, "currency": "EUR"}
    store.close()
    assert len(rows) == 3
    for r in rows:
        assert r.completion_tokens == 2 and r.prompt_tokens > 10  # echo counts words: "return", "[]"
        assert r.cost == pytest.approx((r.prompt_tokens * 2.0 + r.completion_tokens * 5.0) / 1000)
    costs = [r.cost for r in rows]
    assert out["cost_total"] == pytest.approx(sum(costs)) and out["cost_total"] > 0
    assert out["cost_per_request"] == pytest.approx(sum(costs) / 3)
    assert out["cost_currency"] == "EUR" and out["costed_requests"] == 3
    assert out["prompt_tokens_per_request"] == pytest.approx(sum(r.prompt_tokens for r in rows) / 3)
    assert out["completion_tokens_per_request"] == 2.0
    assert 0 < out["latency_ms_p50"] <= out["latency_ms_p95"] and out["ttft_ms_p50"] > 0

    html_path = tmp_path / "report.html"
    rep = runner.invoke(eval_app, ["report", out["run_id"], "--db", db, "--html", str(html_path)])
    assert rep.exit_code == 0, rep.output
    assert "cost / request" in rep.stdout and "EUR" in rep.stdout
    html = html_path.read_text()
    assert "Per request" in html and f"{out['cost_total']:.6g} EUR" in html and "TTFT p50 (ms)" in html
    as_json = json.loads(runner.invoke(eval_app, ["report", out["run_id"], "--db", db, "--json", "--no-html"]).stdout)[0]
    assert {k: as_json[k] for k in COST_KEYS} == {k: out[k] for k in COST_KEYS}

    scores = load_run(out["run_id"], db_url=db)
    by_task = {r.task_id: r.cost for r in rows}
    assert scores.cost is not None
    assert list(scores.cost) == pytest.approx([by_task[t] for t in scores.task_ids])


def test_gateway_runs_are_priced_with_the_price_option(tmp_path) -> None:
    from assay.config import Settings
    from tests.support.live_server import live_server

    settings = Settings(models=[{"name": "e", "provider": "echo", "spec": "assay-nano",
                                 "options": {"reply": "    return []\n"}}])
    db = str(tmp_path / "runs.db")
    with live_server(settings) as server:
        out = _eval("--via-gateway", server.url, "--model", "e", "--limit", "2", "--db", db, "--price", "1.5,3")
        bad = runner.invoke(eval_app, ["eval", "humaneval", "--via-gateway", server.url, "--price", "1.5"])
        negative = runner.invoke(eval_app, ["eval", "humaneval", "--via-gateway", server.url, "--price", "1,-3"])
    rows = RunStore(db).samples(out["run_id"])
    assert len(rows) == 2 and all(r.prompt_tokens and r.completion_tokens for r in rows)
    expected = [(r.prompt_tokens * 1.5 + r.completion_tokens * 3.0) / 1000 for r in rows]
    assert [r.cost for r in rows] == pytest.approx(expected)
    assert out["cost_total"] == pytest.approx(sum(expected)) and out["cost_currency"] == "USD"
    assert bad.exit_code == 2 and "--price takes PROMPT_PER_1K,COMPLETION_PER_1K" in bad.output
    assert negative.exit_code == 2 and "--price completion_per_1k" in negative.output


def test_a_samples_file_run_reports_cost_as_unknown_not_zero(tmp_path) -> None:
    samples = DATA_DIR / "humaneval" / "example_samples.jsonl"
    problems = DATA_DIR / "humaneval" / "example_problem.jsonl"
    db = str(tmp_path / "runs.db")
    out = _eval("--samples", str(samples), "--data", str(problems), "--db", db)
    assert out["samples"] > 0
    assert out["cost_per_request"] is None and out["cost_total"] is None and out["cost_currency"] is None
    assert out["costed_requests"] == 0 and out["prompt_tokens_per_request"] is None
    assert all(r.cost is None for r in RunStore(db).samples(out["run_id"]))
    assert load_run(out["run_id"], db_url=db).cost is None
    priced = runner.invoke(eval_app, ["eval", "humaneval", "--samples", str(samples), "--price", "1,1"])
    assert priced.exit_code == 2 and "--price applies to --model and --via-gateway runs" in priced.output


def test_the_price_is_not_part_of_a_runs_identity_or_its_cache_key() -> None:
    from assay.config import Settings
    from assay.eval.generate import PipelineGenerator
    from assay.eval.runner import EvalOptions, default_run_id
    from assay.eval.tasks import get_task

    def generator(cost: dict) -> PipelineGenerator:
        return PipelineGenerator(Settings(models=[{"name": "e", "provider": "echo", "cost": cost}]), "e")

    free, priced = generator({}), generator({"prompt_per_1k": 9.0})
    task = get_task("humaneval", path=str(DATA_DIR / "humaneval" / "example_problem.jsonl"))
    assert free.cache_label == priced.cache_label and "cost" not in free.cache_label
    assert default_run_id(task, free, EvalOptions()) == default_run_id(task, priced, EvalOptions())
    assert priced.price.prompt_per_1k == 9.0 and free.price.prompt_per_1k == 0.0
