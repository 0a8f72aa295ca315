"""A run database written before runs had a price and samples a cost still opens: the columns are added on
open, old rows read back with cost unknown (None), and new runs in the same file store their costs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assay.eval.report import load_report
from assay.eval.store import RunStore, SampleRow

OLD_SCHEMA = """
CREATE TABLE runs (id VARCHAR(200) NOT NULL, task VARCHAR(200) NOT NULL, model VARCHAR(500) NOT NULL,
    config JSON NOT NULL, created_at DATETIME NOT NULL, finished_at DATETIME, PRIMARY KEY (id));
CREATE TABLE samples (run_id VARCHAR(200) NOT NULL, task_id VARCHAR(500) NOT NULL, "index" INTEGER NOT NULL,
    cluster VARCHAR(500) NOT NULL, language VARCHAR(50) NOT NULL, prompt TEXT NOT NULL, suffix TEXT NOT NULL,
    raw_output TEXT NOT NULL, output TEXT NOT NULL, passed BOOLEAN NOT NULL, outcome VARCHAR(50) NOT NULL,
    metrics JSON NOT NULL, detail TEXT NOT NULL, ttft_ms FLOAT, latency_ms FLOAT, exec_ms FLOAT,
    prompt_tokens INTEGER, completion_tokens INTEGER, cached BOOLEAN NOT NULL, trace JSON,
    PRIMARY KEY (run_id, task_id, "index"));
CREATE TABLE model_cache ("key" VARCHAR(64) NOT NULL, model VARCHAR(500) NOT NULL, response JSON NOT NULL,
    created_at DATETIME NOT NULL, PRIMARY KEY ("key"));
INSERT INTO runs VALUES ('old', 'humaneval', 'm', '{}', '2026-01-01 00:00:00.000000', NULL);
INSERT INTO samples VALUES ('old', 'HumanEval/0', 0, 'HumanEval/0', 'python', 'p', '', 'o', 'o', 1, 'passed',
    '{}', '', 5.0, 20.0, NULL, 40, 8, 0, NULL);
"""


def _columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as con:
        return [row[1] for row in con.execute(f"PRAGMA table_info({table})")]


def test_an_old_database_opens_gains_the_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as con:
        con.executescript(OLD_SCHEMA)
    assert "cost" not in _columns(path, "samples")

    store = RunStore(f"sqlite:///{path}")
    assert "cost" in _columns(path, "samples") and "price" in _columns(path, "runs")
    assert store.run("old").price is None
    (old,) = store.samples("old")
    assert old.cost is None and old.prompt_tokens == 40 and old.passed
    report = load_report("old", store).result
    assert report.requests.cost_total is None and report.requests.prompt_tokens_per_request == 40.0
    assert report.scores["pass@1"].mean == 1.0

    store.start_run("new", "humaneval", "m", {}, price={"prompt_per_1k": 1.0, "completion_per_1k": 2.0,
                                                        "currency": "USD"})
    store.add_samples([SampleRow(run_id="new", task_id="HumanEval/0", index=0, cluster="HumanEval/0",
                                 language="python", prompt="p", suffix="", raw_output="o", output="o", passed=False,
                                 outcome="failed", metrics={}, detail="", prompt_tokens=40, completion_tokens=8,
                                 cached=False, cost=0.056)])
    store.close()
    reopened = RunStore(f"sqlite:///{path}")
    assert reopened.samples("new")[0].cost == 0.056
    assert reopened.run("new").price["currency"] == "USD"
    assert load_report("new", reopened).result.requests.cost_currency == "USD"
    reopened.close()
