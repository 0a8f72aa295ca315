"""The decision report: Markdown with PNG files beside it, HTML with the figures embedded."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from assay.stats.compare import CompareSettings, compare_runs
from assay.stats.experiment import analyze_experiment, cumulative_lift
from assay.stats.plots import pareto_figure
from assay.stats.report import write_report
from assay.stats.scores import from_records
from assay.stats.table import UserRow, UserTable

PNG = b"\x89PNG\r\n\x1a\n"


def _runs():
    rng = np.random.default_rng(0)
    return [
        from_records(
            name,
            [
                {"task_id": f"t{i}", "pass@1": int(rng.uniform() < p), "latency_ms": lat, "cost": c}
                for i in range(40)
            ],
        )
        for name, p, lat, c in (("small", 0.3, 50, 1), ("large", 0.6, 200, 4), ("mid", 0.25, 120, 2))
    ]


def _table() -> UserTable:
    rng = np.random.default_rng(1)
    rows = []
    for u in range(200):
        arm = "B" if u % 2 else "A"
        for day in (1, 2):
            shown = int(rng.integers(2, 15))
            rows.append(
                UserRow(
                    user_id=f"u{u}",
                    arm=arm,
                    shown=shown,
                    accepted=int(rng.binomial(shown, 0.4 if arm == "B" else 0.3)),
                    latency_ms=[100.0 + u % 7],
                    requests=5,
                    errors=0,
                    cost=0.01,
                    date=f"2026-11-0{day}",
                )
            )
    return UserTable.from_rows(rows)


def test_report_files(tmp_path: Path) -> None:
    comparison = compare_runs(
        _runs(), rng=np.random.default_rng(0), settings=CompareSettings(n_bootstrap=200, n_permutations=200)
    )
    table = _table()
    analysis = analyze_experiment(table, name="nano-vs-large", rng=np.random.default_rng(0))
    daily = cumulative_lift(table)
    files = write_report(
        tmp_path / "out" / "decision", comparison=comparison, experiment=analysis, daily=daily
    )
    md = files.markdown.read_text()
    page = files.html.read_text()
    assert f"## Verdict: {analysis.verdict.value}" in md
    assert "Offline: A = small vs B = large" in md and "Quality / latency / cost" in md
    assert {p.name for p in files.figures} == {
        "decision-arm_rates.png",
        "decision-cumulative_lift.png",
        "decision-differences.png",
        "decision-pareto.png",
    }
    for p in files.figures:
        assert p.read_bytes().startswith(PNG)
        assert f"]({p.name})" in md
    assert page.count('src="data:image/png;base64,') == 4
    embedded = page.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(embedded).startswith(PNG)
    assert "<strong>nano-vs-large</strong>" in page
    assert "<script" not in page


def test_pareto_svg() -> None:
    comparison = compare_runs(
        _runs(), rng=np.random.default_rng(0), settings=CompareSettings(n_bootstrap=100, n_permutations=100)
    )
    svg = pareto_figure(comparison.pareto, fmt="svg")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
