"""``assay compare`` and ``assay experiment analyze`` end to end through typer, on real files, a real
SQLite run database written by ``assay.eval.store`` and (for samples files) the real sandbox."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from assay.cli.stats import compare_command, experiment_app

HUMANEVAL = Path(__file__).resolve().parents[3] / "src/assay/eval/data/humaneval/HumanEval.jsonl.gz"


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("compare")(compare_command)
    app.add_typer(experiment_app, name="experiment")
    return app


def _invoke(cli: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _score_file(path: Path, p: float, seed: int, *, latency: float, cost: float, n: int = 80) -> Path:
    rng = np.random.default_rng(seed)
    rows = [
        {
            "task_id": f"HumanEval/{i}",
            "cluster": f"HumanEval/{i // 4}",
            "pass@1": int(rng.uniform() < p),
            "es": round(float(rng.uniform(30, 100)), 1),
            "latency_ms": latency,
            "cost": cost,
        }
        for i in range(n)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_compare_two_score_files_json(cli: typer.Typer, tmp_path: Path) -> None:
    a = _score_file(tmp_path / "a.jsonl", 0.3, 1, latency=100, cost=1)
    b = _score_file(tmp_path / "b.jsonl", 0.7, 2, latency=200, cost=2)
    code, out = _invoke(
        cli,
        "compare",
        str(a),
        str(b),
        "--json",
        "--bootstrap",
        "500",
        "--permutations",
        "500",
        "--delta",
        "0.05",
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["n"] == 80
    passed = data["metrics"]["pass@1"]
    assert passed["test"] == "mcnemar_exact" and passed["p_value"] < 0.001
    assert passed["ci95"][0] > 0 and passed["diff"] == pytest.approx(passed["b"] - passed["a"])
    assert data["metrics"]["es"]["test"] == "sign_flip_permutation"
    assert data["settings"]["seed"] == 0


def test_compare_at_three_problems_says_no_difference_is_detectable(cli: typer.Typer, tmp_path: Path) -> None:
    a = _score_file(tmp_path / "a.jsonl", 0.0, 1, latency=100, cost=1, n=3)
    b = _score_file(tmp_path / "b.jsonl", 1.01, 2, latency=100, cost=1, n=3)
    code, out = _invoke(cli, "compare", str(a), str(b), "--metric", "pass@1", "--json", "--bootstrap", "200")
    assert code == 0, out
    passed = json.loads(out)["metrics"]["pass@1"]
    assert passed["p_value"] == 0.25 and passed["mdd"] is None
    assert passed["mdd_note"].startswith("no difference is detectable at n = 3: ")
    code, out = _invoke(cli, "compare", str(a), str(b), "--bootstrap", "200")
    assert code == 0, out
    assert "no difference is detectable at n = 3" in " ".join(out.split())


def test_compare_three_runs_plots_the_frontier_and_writes_a_report(cli: typer.Typer, tmp_path: Path) -> None:
    runs = [
        _score_file(tmp_path / "small.jsonl", 0.3, 1, latency=50, cost=1),
        _score_file(tmp_path / "large.jsonl", 0.7, 2, latency=300, cost=5),
        _score_file(tmp_path / "worse.jsonl", 0.2, 3, latency=400, cost=6),
    ]
    plot = tmp_path / "pareto.svg"
    code, out = _invoke(
        cli,
        "compare",
        *map(str, runs),
        "--bootstrap",
        "300",
        "--permutations",
        "300",
        "--plot",
        str(plot),
        "--report",
        str(tmp_path / "report"),
    )
    assert code == 0, out
    assert "Pareto frontier" in out and "A = small vs B = large" in out
    assert b"<svg" in plot.read_bytes()
    assert "Quality / latency / cost" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "report.html").read_text().count("data:image/png;base64,") == 2


def _samples(tmp_path: Path) -> tuple[Path, Path]:
    problems = [json.loads(line) for line in gzip.open(HUMANEVAL, "rt")][:4]
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text(
        "".join(
            json.dumps({"task_id": p["task_id"], "completion": p["canonical_solution"]}) + "\n"
            for p in problems
        )
    )
    bad.write_text(
        "".join(
            json.dumps({"task_id": p["task_id"], "completion": "    return None\n"}) + "\n" for p in problems
        )
    )
    return good, bad


def test_compare_run_ids_from_the_run_database(cli: typer.Typer, tmp_path: Path) -> None:
    """Runs are written by ``assay.eval``'s own runner into a real SQLite run database."""
    import asyncio

    from assay.eval.generate import SamplesFile
    from assay.eval.runner import EvalOptions, run_eval
    from assay.eval.store import RunStore
    from assay.eval.tasks.registry import get_task

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    store = RunStore(url)
    for run_id, path in zip(("run-good", "run-bad"), _samples(tmp_path), strict=True):
        asyncio.run(
            run_eval(get_task("humaneval"), SamplesFile(path), store, EvalOptions(workers=2), run_id=run_id)
        )
    store.close()
    code, out = _invoke(cli, "compare", "run-good", "run-bad", "--db", url, "--json", "--bootstrap", "300")
    assert code == 0, out
    data = json.loads(out)
    assert data["n"] == 4 and data["a"] == "run-good" and data["b"] == "run-bad"
    assert data["metrics"]["pass@1"]["diff"] == -1.0
    assert data["metrics"]["pass@1"]["test"] == "mcnemar_exact"
    code, out = _invoke(cli, "compare", "run-good", "nope", "--db", url)
    assert code == 2 and "no run 'nope'" in out


def test_compare_samples_files_scored_with_a_task(cli: typer.Typer, tmp_path: Path) -> None:
    good, bad = _samples(tmp_path)
    code, out = _invoke(cli, "compare", str(good), str(bad))
    assert code == 2 and "pass --task" in out
    code, out = _invoke(
        cli, "compare", str(good), str(bad), "--task", "humaneval", "--json", "--bootstrap", "200"
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["metrics"]["pass@1"]["a"] == 1.0
    assert data["metrics"]["pass@1"]["b"] == 0.0
    assert data["metrics"]["pass@1"]["p_value"] == pytest.approx(0.125)


def _events_csv(path: Path, *, lift: float, users: int = 600, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(
            f,
            [
                "experiment",
                "user_id",
                "arm",
                "date",
                "shown",
                "accepted",
                "pre_shown",
                "pre_accepted",
                "latency_ms",
                "errors",
                "requests",
                "cost",
            ],
        )
        writer.writeheader()
        for u in range(users):
            arm = "nano" if u % 2 else "control"
            rate = rng.beta(3, 7)
            pre = int(rng.integers(5, 30))
            for day in (1, 2, 3):
                shown = int(rng.integers(2, 12))
                p = min(1.0, rate * (1 + lift) if arm == "nano" else rate)
                writer.writerow(
                    {
                        "experiment": "nano-test",
                        "user_id": f"user-{u}",
                        "arm": arm,
                        "date": datetime(2026, 11, day, 9, tzinfo=UTC).isoformat(),
                        "shown": shown,
                        "accepted": int(rng.binomial(shown, p)),
                        "pre_shown": pre if day == 1 else 0,
                        "pre_accepted": int(rng.binomial(pre, rate)) if day == 1 else 0,
                        "latency_ms": ";".join(f"{x:.1f}" for x in rng.lognormal(5, 0.3, 3)),
                        "errors": 0,
                        "requests": 3,
                        "cost": 0.002 * shown,
                    }
                )
            writer.writerow(
                {
                    "experiment": "other",
                    "user_id": f"x-{u}",
                    "arm": "zzz",
                    "date": "2026-11-01",
                    "shown": 1,
                    "accepted": 0,
                }
            )
    return path


def test_experiment_analyze_json_and_report(cli: typer.Typer, tmp_path: Path) -> None:
    events = _events_csv(tmp_path / "events.csv", lift=0.3)
    code, out = _invoke(
        cli,
        "experiment",
        "analyze",
        "nano-test",
        "--events",
        str(events),
        "--json",
        "--control",
        "control",
        "--report",
        str(tmp_path / "decision"),
        "--bootstrap",
        "300",
        "--offline",
        str(_score_file(tmp_path / "nano-offline.jsonl", 0.3, 1, latency=80, cost=1)),
        "--offline",
        str(_score_file(tmp_path / "large-offline.jsonl", 0.6, 2, latency=300, cost=4)),
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["verdict"] == "ship"
    assert data["offline"]["n"] == 80 and data["offline"]["b"] == "large-offline"
    assert [a["arm"] for a in data["arms"]] == ["control", "nano"]
    assert sum(a["users"] for a in data["arms"]) == 600
    comparison = data["comparisons"][0]
    assert comparison["lift_cuped"] is not None and comparison["theta"] > 0
    assert comparison["lift_sequential"]["ci"][0] > 0
    assert {g["name"] for g in comparison["guardrails"]} == {"latency_p95", "error_rate", "cost"}
    assert [d["day"] for d in data["daily"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert data["srm"]["mismatch"] is False
    md = (tmp_path / "decision.md").read_text()
    assert "## Verdict: ship" in md and "decision-cumulative_lift.png" in md
    assert "Offline: A = nano-offline vs B = large-offline" in md
    assert (tmp_path / "decision-cumulative_lift.png").is_file()


def test_experiment_analyze_text_and_errors(cli: typer.Typer, tmp_path: Path) -> None:
    events = _events_csv(tmp_path / "events.csv", lift=0.0, users=200)
    code, out = _invoke(
        cli, "experiment", "analyze", "nano-test", "--events", str(events), "--bootstrap", "200"
    )
    assert code == 0, out
    assert "nano-test" in out and "KEEP RUNNING" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,arm,shown,accepted\nu1,a,3,5\n")
    code, out = _invoke(cli, "experiment", "analyze", "x", "--events", str(bad))
    assert code == 2
    assert out.strip().count("\n") == 0 and "row 1" in out and "accepted (5) exceeds shown (3)" in out
    code, out = _invoke(cli, "experiment", "analyze", "x", "--events", str(events), "--weights", "a:1")
    assert code == 2 and "--weights" in out
