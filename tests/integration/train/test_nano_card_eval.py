"""The model card's evaluation rows, from a real (tiny) evaluation of the shipped assay-nano through the
production pipeline: with ``--eval-limit 1`` every task covers one source problem, so no CI exists (one
cluster), and the card says so instead of printing ``[nan, nan]``."""

from __future__ import annotations

from pathlib import Path

import assay
from assay.cli.train import NANO_EVAL_TASKS, _evaluate_nano


def test_one_cluster_rows_say_n_a_and_no_row_prints_nan(tmp_path: Path) -> None:
    weights = Path(assay.__file__).parent / "weights" / "assay-nano"
    rows, scores = _evaluate_nano(weights, tmp_path, limit=1)
    table = [r for r in rows if r.startswith("|")]
    assert len(table) == 4 * len(NANO_EVAL_TASKS) and not any("nan" in r for r in rows)
    assert all(r.endswith("| n/a (1 cluster) |") for r in table), table
    assert set(scores) == set(NANO_EVAL_TASKS)
