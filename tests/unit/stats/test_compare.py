"""Offline comparison: score-file parsing, alignment on shared problems, adjustments, Pareto frontier."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from assay.errors import RequestInvalid
from assay.stats.compare import CompareSettings, compare_runs, pareto_frontier, summary_json
from assay.stats.scores import from_records, is_samples_file, load_score_file


def _run(name: str, p: float, *, n: int = 60, seed: int = 0, latency: float = 100.0, cost: float = 1.0):
    rng = np.random.default_rng(seed)
    return from_records(
        name,
        [
            {
                "task_id": f"T/{i}",
                "cluster": f"T/{i // 3}",
                "language": "python" if i % 2 else "java",
                "passed": bool(rng.uniform() < p),
                "es": float(rng.uniform(40, 100)),
                "latency_ms": latency,
                "cost": cost,
            }
            for i in range(n)
        ],
    )


def test_score_rows_average_samples_per_problem_and_read_nested_metrics(tmp_path: Path) -> None:
    path = tmp_path / "scores.jsonl"
    rows = [
        {"task_id": "a", "metrics": {"es": 80}, "passed": True, "latency_ms": 10},
        {"task_id": "a", "metrics": {"es": 60}, "passed": False, "latency_ms": 30},
        {"task_id": "b", "metrics": {"es": 50}, "passed": True, "latency_ms": 20},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    run = load_score_file(path)
    assert run.task_ids == ("a", "b")
    assert run.metrics["es"].tolist() == [70.0, 50.0]
    assert run.metrics["passed"].tolist() == [0.5, 1.0]
    assert run.latency_ms is not None and run.latency_ms.tolist() == [20.0, 20.0]
    assert run.clusters is None


def test_samples_file_detection(tmp_path: Path) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/0", "completion": "    return 1\n"}) + "\n")
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps([{"task_id": "HumanEval/0", "completion": "x", "passed": 1}]))
    assert is_samples_file(samples)
    assert not is_samples_file(scores)


def test_missing_metric_names_the_problem() -> None:
    with pytest.raises(RequestInvalid, match="metric 'em' is missing for problem 'a'"):
        from_records("r", [{"task_id": "a", "es": 1}, {"task_id": "b", "em": 1}])


def test_pairs_use_only_shared_problems_and_pick_tests_by_metric_type() -> None:
    a = _run("a", 0.4, seed=1)
    b = _run("b", 0.7, n=50, seed=2)
    result = compare_runs(
        [a, b], rng=np.random.default_rng(0), settings=CompareSettings(n_bootstrap=500, n_permutations=500)
    )
    pair = result.pairs[0]
    assert (pair.n, pair.only_a, pair.only_b) == (50, 10, 0)
    by_key = {(m.metric, m.subgroup): m for m in pair.metrics}
    assert by_key[("passed", "all")].test == "mcnemar_exact"
    assert by_key[("es", "all")].test == "sign_flip_permutation"
    assert by_key[("passed", "all")].se_kind == "clustered"
    assert {s for _, s in by_key} == {"all", "language=java", "language=python"}
    passed = by_key[("passed", "all")]
    assert passed.a == pytest.approx(a.metrics["passed"][:50].mean())
    assert passed.diff == pytest.approx(passed.b - passed.a)
    p = [m.p_value for m in pair.metrics]
    assert [m.p_holm for m in pair.metrics] == pytest.approx(multipletests(p, method="holm")[1])
    assert [m.p_bh for m in pair.metrics] == pytest.approx(multipletests(p, method="fdr_bh")[1])


def test_json_shape_and_reproducibility() -> None:
    runs = [_run("a", 0.4, seed=1), _run("b", 0.6, seed=2)]
    settings = CompareSettings(n_bootstrap=300, n_permutations=300, delta=0.1)
    first, again = (summary_json(compare_runs(runs, rng=np.random.default_rng(3), settings=settings)) for _ in range(2))
    assert first == again
    assert first["n"] == 60
    entry = first["metrics"]["passed"]
    assert set(entry) >= {"a", "b", "diff", "ci95", "p_value", "test"}
    assert len(entry["ci95"]) == 2 and entry["ci95"][0] < entry["diff"] < entry["ci95"][1]
    assert entry["n_needed"] > 0
    json.dumps(first, allow_nan=False)


def test_pareto_frontier_rules() -> None:
    quality = [0.5, 0.6, 0.4, 0.6]
    costs = [[100, 1], [150, 2], [200, 3], [150, 2]]
    assert pareto_frontier(quality, costs) == [True, True, False, True]
    assert pareto_frontier([0.5, 0.5], [[1], [2]]) == [True, False]


def test_three_runs_get_a_frontier() -> None:
    runs = [
        _run("fast", 0.4, seed=1, latency=80, cost=1),
        _run("big", 0.8, seed=2, latency=300, cost=5),
        _run("bad", 0.3, seed=3, latency=400, cost=6),
    ]
    result = compare_runs(
        runs,
        rng=np.random.default_rng(0),
        quality_metric="passed",
        settings=CompareSettings(n_bootstrap=200, n_permutations=200),
    )
    assert {p.run: p.on_frontier for p in result.pareto} == {"fast": True, "big": True, "bad": False}
    assert len(result.pairs) == 2


def test_compare_rejects_disjoint_runs() -> None:
    a = from_records("a", [{"task_id": "x", "s": 1}, {"task_id": "y", "s": 0}])
    b = from_records("b", [{"task_id": "z", "s": 1}, {"task_id": "w", "s": 0}])
    with pytest.raises(ValueError, match="share no problem"):
        compare_runs([a, b], rng=np.random.default_rng(0))


def test_task_and_language_subgroups_join_the_adjusted_family() -> None:
    rng = np.random.default_rng(4)
    rows = [
        {"task_id": f"{task}/{i}", "task": task, "language": lang, "pass@1": int(rng.uniform() < 0.5)}
        for task in ("humaneval", "mbpp")
        for i, lang in enumerate(["python", "java"] * 10)
    ]
    a = from_records("a", rows)
    b = from_records("b", [dict(r, **{"pass@1": int(rng.uniform() < 0.6)}) for r in rows])
    pair = compare_runs(
        [a, b], rng=np.random.default_rng(0), settings=CompareSettings(n_bootstrap=100)
    ).pairs[0]
    assert [m.subgroup for m in pair.metrics] == [
        "all",
        "task=humaneval",
        "task=mbpp",
        "language=java",
        "language=python",
    ]
    assert [m.n for m in pair.metrics] == [40, 20, 20, 20, 20]


def test_each_pair_gets_a_verdict_on_the_quality_metric_from_its_holm_p_value() -> None:
    base = from_records("base", [{"task_id": f"t{i}", "pass@1": 1, "es": 50.0 + i % 7} for i in range(30)])
    worse = from_records(
        "worse", [{"task_id": f"t{i}", "pass@1": int(i < 10), "es": 50.0} for i in range(30)]
    )
    same = from_records("same", [{"task_id": f"t{i}", "pass@1": int(i != 3), "es": 50.0} for i in range(30)])
    settings = CompareSettings(n_bootstrap=200)
    result = compare_runs([base, worse, same], rng=np.random.default_rng(0), settings=settings)
    verdicts = [p.verdict for p in result.pairs]
    assert [(v.metric, v.outcome) for v in verdicts] == [("pass@1", "worse"), ("pass@1", "inconclusive")]
    assert verdicts[0].reason.startswith("B is worse on pass@1: B − A = -0.667")
    by_es = compare_runs(
        [base, worse],
        rng=np.random.default_rng(0),
        quality_metric="es",
        settings=CompareSettings(n_bootstrap=200, n_permutations=200),
    )
    assert by_es.pairs[0].verdict.metric == "es"
    with pytest.raises(ValueError, match="quality metric 'em' is not in every run; shared: es, pass@1"):
        compare_runs([base, worse], rng=np.random.default_rng(0), quality_metric="em")
