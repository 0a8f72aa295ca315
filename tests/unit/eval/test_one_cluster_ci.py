"""A run that covers a single source problem has no CI: the clustered SE divides by C − 1
(evaluation-reference.md §3.1), so at C = 1 it is undefined. QA saw three infilling tasks cut from
HumanEval/0 scoring 1, 0, 0 reported as 33.33 ± 0.00 %, i.e. certainty from one problem."""

from __future__ import annotations

import json
import math

from rich.console import Console

from assay.eval.report import fmt, print_table, score_rows
from assay.eval.results import estimate, summarize
from assay.eval.store import SampleRow


def _row(task_id: str, passed: bool, cluster: str) -> SampleRow:
    return SampleRow(run_id="r", task_id=task_id, index=0, cluster=cluster, language="python", prompt="",
                     suffix="", raw_output="x", output="x", passed=passed,
                     outcome="passed" if passed else "failed", metrics={}, detail="", cached=False)


def _one_problem_run():
    rows = [_row("SingleLineInfilling/HumanEval/0/L0", True, "HumanEval/0"),
            _row("SingleLineInfilling/HumanEval/0/L1", False, "HumanEval/0"),
            _row("SingleLineInfilling/HumanEval/0/L2", False, "HumanEval/0")]
    return summarize("r", "humaneval-infilling", "m", rows, ks=(1,))


def test_one_cluster_has_no_standard_error_and_no_ci() -> None:
    est = _one_problem_run().scores["pass@1"]
    assert (round(est.mean, 4), est.n, est.clusters) == (0.3333, 3, 1)
    assert est.se is None and not est.defined and not est.clipped
    assert all(math.isnan(x) for x in (*est.ci95, *est.normal_ci95))


def test_json_reports_null_ci_for_one_cluster() -> None:
    data = json.loads(json.dumps(_one_problem_run().as_dict()))
    pass1 = data["scores"]["pass@1"]
    assert (pass1["se"], pass1["ci95_low"], pass1["ci95_high"], pass1["clusters"]) == (None, None, None, 1)


def test_text_says_na_rather_than_plus_minus_zero() -> None:
    rows = {name: (value, unit) for name, value, unit, _, _ in score_rows(_one_problem_run())}
    assert rows["pass@1"] == ("33.33 ± n/a (1 cluster)", "%")
    console = Console(width=200, record=True)
    print_table([_one_problem_run()], console)
    text = console.export_text()
    assert "33.33 % ± n/a (1 cluster)" in text and "± 0.00" not in text


def test_a_single_problem_is_one_cluster_too() -> None:
    est = estimate([1.0], ["HumanEval/3"])
    assert not est.defined and fmt(est, percent=True) == "100.00 ± n/a (1 cluster)"


def test_two_clusters_still_get_an_interval() -> None:
    est = estimate([1.0, 0.0, 0.0], ["A", "A", "B"], bounds=(0.0, 1.0))
    assert est.defined and est.se is not None and est.se > 0 and est.ci95[0] < est.mean < est.ci95[1]
