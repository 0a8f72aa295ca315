"""What QA found in ``assay compare``: a run compared with itself passed as "inconclusive", the heading
named B before A, a Wald CI of a difference left the possible range, and a run of unknown cost was put on
the Pareto frontier ahead of runs that cost nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.stats.compare import clip_difference, compare_runs
from assay.stats.report import build_sections, render_markdown
from assay.stats.scores import RunScores


def _run(name: str, passed: list[float], answered: list[float] | None = None,
         cost: list[float] | None = None) -> RunScores:
    metrics = {"pass@1": np.array(passed, dtype=float)}
    if answered is not None:
        metrics["answered"] = np.array(answered, dtype=float)
    return RunScores(name=name, task_ids=tuple(f"t{i}" for i in range(len(passed))), metrics=metrics,
                     cost=None if cost is None else np.array(cost, dtype=float))


def test_a_run_compared_with_itself_is_an_error(tmp_path: Path) -> None:
    scores = tmp_path / "run.json"
    scores.write_text(json.dumps([{"task_id": f"t{i}", "pass@1": i % 2} for i in range(6)]))
    for args in ([str(scores), str(scores)], ["X", "X"]):
        done = CliRunner().invoke(app, ["compare", *args])
        assert done.exit_code == 2, done.output
        assert done.output.strip() == f"error: run '{args[1]}' is given twice: compare it with another run"


def test_the_heading_names_a_first_like_the_line_under_it() -> None:
    comparison = compare_runs([_run("base", [1, 0, 0, 1]), _run("cand", [1, 1, 0, 1])],
                              rng=np.random.default_rng(0))
    section = build_sections(comparison=comparison)[0]
    assert section.title == "Offline: A = base vs B = cand"
    assert section.paragraphs[0].startswith("A = `base` (baseline, first run), B = `cand`")


def test_the_ci_of_a_difference_stays_within_the_metrics_width() -> None:
    a = _run("a", [0, 0, 0, 0, 0, 0, 1], answered=[0, 0, 0, 0, 0, 0, 1])
    b = _run("b", [1, 1, 1, 1, 1, 1, 1], answered=[1, 1, 1, 1, 1, 1, 1])
    comparison = compare_runs([a, b], rng=np.random.default_rng(0), quality_metric="answered")
    for m in comparison.pairs[0].metrics:
        assert m.diff + 1.96 * m.se > 1.0  # the Wald interval leaves [-1, 1] ...
        assert m.ci95 == (pytest.approx(m.diff - 1.959964 * m.se, abs=1e-5), 1.0)  # ... and is clipped
    assert clip_difference((-3.0, 250.0), (0.0, 100.0)) == (-3.0, 100.0)
    assert clip_difference((-3.0, 250.0), None) == (-3.0, 250.0)


def test_answered_is_a_row_of_the_table_outside_the_holm_family() -> None:
    a = _run("a", [1, 0, 0, 1, 0, 0], answered=[1, 0, 0, 1, 0, 0])
    b = _run("b", [1, 0, 1, 1, 0, 0], answered=[1, 1, 1, 1, 1, 1])
    md = render_markdown("t", build_sections(comparison=compare_runs([a, b], rng=np.random.default_rng(0))), {})
    (row,) = [line for line in md.splitlines() if line.startswith("| answered | all |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[5] == "0.6667" and cells[10:12] == ["–", "–"]
    assert "`answered` (share of non-empty outputs) is shown for context" in md


def test_a_run_of_unknown_cost_is_not_on_the_frontier_ahead_of_known_costs() -> None:
    runs = [_run("free", [1, 0, 0, 0], cost=[0, 0, 0, 0]), _run("cheap", [1, 1, 0, 0], cost=[0, 0, 0, 0]),
            _run("unpriced", [1, 1, 1, 1])]
    comparison = compare_runs(runs, rng=np.random.default_rng(0))
    frontier = {p.run: p.on_frontier for p in comparison.pareto}
    assert frontier == {"free": False, "cheap": True, "unpriced": None}
    md = render_markdown("t", build_sections(comparison=comparison), {})
    assert "| unpriced | 1 | – | – | n/a |" in md and "| cheap | 0.5 | – | 0 | yes |" in md
    assert "n/a: `unpriced` cannot be placed" in md


def test_without_any_cost_every_run_is_placed_on_quality() -> None:
    runs = [_run("a", [1, 0, 0, 0]), _run("b", [1, 1, 0, 0]), _run("c", [1, 1, 1, 0])]
    frontier = {p.run: p.on_frontier for p in compare_runs(runs, rng=np.random.default_rng(0)).pareto}
    assert frontier == {"a": False, "b": False, "c": True}
