"""``assay compare`` end to end on three priced runs that ``assay eval`` wrote.

Three echo models answer 20 HumanEval problems (those whose canonical solution is one line) with fixed
answers, each either the canonical solution or ``return None``, so which problems pass is known before
anything runs. They differ in token prices and in delay. ``assay eval humaneval --model`` runs each
through the in-process pipeline and the real sandbox into one SQLite run database; ``assay compare``
reads the runs by id. Expected numbers come from the answers, scipy and statsmodels, not from
``assay.stats``. Nothing is mocked.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from typer.testing import CliRunner

from assay.cli.main import app
from assay.eval.store import RunStore

HUMANEVAL = Path(__file__).resolve().parents[3] / "src/assay/eval/data/humaneval/HumanEval.jsonl.gz"
WRONG = "    return None\n"
N = 20


@dataclass(frozen=True)
class Model:
    """An echo model: the problem indices it answers correctly, its prices per 1k tokens and its delay."""

    correct: frozenset[int]
    prompt_per_1k: float
    completion_per_1k: float
    delay_s: float


MODELS = {
    "small": Model(frozenset(range(10)), 0.1, 1.0, 0.0),
    "large": Model(frozenset(range(N)), 2.0, 20.0, 0.005),
    "mid": Model(frozenset({0, 1, 2, 3, 10, 11}), 1.0, 10.0, 0.05),
}


@dataclass(frozen=True)
class Runs:
    db: str
    replies: dict[str, list[str]]
    prompt_tokens: dict[str, list[int]]
    evals: dict[str, dict]


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.output


def _eval(run_id: str, model: str, config: Path, data: Path, db: str) -> dict:
    source = ["--model", model, "--config", str(config), "--data", str(data), "--workers", "1", "--k", "1"]
    code, out, full = _invoke("eval", "humaneval", *source, "--db", db, "--run-id", run_id, "--json")
    assert code == 0, full
    return json.loads(out)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    tmp = tmp_path_factory.mktemp("priced")
    problems = [json.loads(line) for line in gzip.open(HUMANEVAL, "rt")]
    one_line = [p for p in problems if p["canonical_solution"].strip().count("\n") == 0]
    data, other = tmp / "problems.jsonl", tmp / "other.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in one_line[:N]))
    other.write_text("".join(json.dumps(p) + "\n" for p in one_line[N : N + 4]))
    replies = {
        name: [p["canonical_solution"] if i in m.correct else WRONG for i, p in enumerate(one_line[:N])]
        for name, m in MODELS.items()
    }
    models = [
        {
            "name": name,
            "provider": "echo",
            "spec": "assay-nano",
            "options": {"reply": replies[name], "delay_s": m.delay_s},
            "cost": {"prompt_per_1k": m.prompt_per_1k, "completion_per_1k": m.completion_per_1k},
        }
        for name, m in MODELS.items()
    ]
    config = tmp / "assay.yaml"
    config.write_text(yaml.safe_dump({"models": models}))
    db = f"sqlite:///{tmp / 'runs.db'}"
    evals = {name: _eval(name, name, config, data, db) for name in MODELS}
    _eval("other-problems", "small", config, other, db)
    store = RunStore(db)
    try:
        order = {p["task_id"]: i for i, p in enumerate(one_line[:N])}
        prompt_tokens = {}
        for name in MODELS:
            rows = sorted(store.samples(name), key=lambda r: order[r.task_id])
            assert [r.completion_tokens for r in rows] == [len(t.split()) for t in replies[name]]
            prompt_tokens[name] = [r.prompt_tokens for r in rows]
    finally:
        store.close()
    return Runs(db=db, replies=replies, prompt_tokens=prompt_tokens, evals=evals)


def _passes(name: str) -> np.ndarray:
    return np.array([float(i in MODELS[name].correct) for i in range(N)])


def _expected_cost(runs: Runs, name: str) -> float:
    m = MODELS[name]
    per_problem = [
        (p * m.prompt_per_1k + len(reply.split()) * m.completion_per_1k) / 1000
        for p, reply in zip(runs.prompt_tokens[name], runs.replies[name], strict=True)
    ]
    return float(np.mean(per_problem))


def _compare(runs: Runs, *extra: str) -> str:
    code, out, full = _invoke(
        "compare", *MODELS, "--db", runs.db, "--seed", "3", "--bootstrap", "2000", *extra
    )
    assert code == 0, full
    return out


def _compare_json(runs: Runs) -> dict:
    return json.loads(_compare(runs, "--json"))


def test_the_runs_pass_what_their_answers_imply(runs: Runs) -> None:
    for name in MODELS:
        assert runs.evals[name]["scores"]["pass@1"]["mean"] == pytest.approx(_passes(name).mean())
        assert runs.evals[name]["cost_per_request"] == pytest.approx(_expected_cost(runs, name))


def test_paired_deltas_tests_and_holm_agree_with_scipy_and_statsmodels(runs: Runs) -> None:
    data = _compare_json(runs)
    assert (data["n"], data["a"], data["b"]) == (N, "small", "large")
    pairs = data["comparisons"]
    assert [(p["a"], p["b"], p["n"], p["only_a"], p["only_b"]) for p in pairs] == [
        ("small", "large", N, 0, 0),
        ("small", "mid", N, 0, 0),
    ]
    a = _passes("small")
    raw_p = []
    for pair in pairs:
        [m] = [x for x in pair["metrics"] if x["metric"] == "pass@1"]  # answered is shown beside it
        assert (m["metric"], m["subgroup"], m["test"], m["se_kind"]) == (
            "pass@1",
            "all",
            "mcnemar_exact",
            "clt",
        )
        b = _passes(pair["b"])
        d = b - a
        se = d.std(ddof=1) / np.sqrt(N)
        z = stats.norm.ppf(0.975)
        assert (m["a"], m["b"]) == (pytest.approx(a.mean()), pytest.approx(b.mean()))
        assert m["diff"] == pytest.approx(d.mean())
        assert m["ci95"] == pytest.approx([d.mean() - z * se, d.mean() + z * se])
        assert m["bootstrap_ci95"][0] <= m["diff"] <= m["bootstrap_ci95"][1]
        table = [
            [np.sum((a == 1) & (b == 1)), np.sum((a == 1) & (b == 0))],
            [np.sum((a == 0) & (b == 1)), np.sum((a == 0) & (b == 0))],
        ]
        n10, n01 = table[0][1], table[1][0]
        assert m["p_value"] == pytest.approx(stats.binomtest(min(n01, n10), n01 + n10, 0.5).pvalue)
        assert m["p_value"] == pytest.approx(mcnemar(table, exact=True).pvalue)
        assert m["correlation"] == (pytest.approx(stats.pearsonr(a, b).statistic) if b.std() else None)
        raw_p.append(m["p_value"])
    holm = multipletests(raw_p, method="holm")[1]
    bh = multipletests(raw_p, method="fdr_bh")[1]
    assert list(bh) == pytest.approx(list(stats.false_discovery_control(raw_p)))
    assert [p["metrics"][0]["p_holm"] for p in pairs] == pytest.approx(list(holm))
    assert [p["metrics"][0]["p_bh"] for p in pairs] == pytest.approx(list(bh))
    assert pairs[0]["metrics"][0]["p_holm"] < 0.05 < pairs[1]["metrics"][0]["p_holm"]
    assert data["metrics"]["pass@1"]["p_holm"] == pytest.approx(holm[0])
    assert [(p["verdict"]["metric"], p["verdict"]["outcome"]) for p in pairs] == [
        ("pass@1", "better"),
        ("pass@1", "inconclusive"),
    ]
    assert data["verdict"] == pairs[0]["verdict"]
    assert _compare_json(runs) == data


def test_cost_latency_and_the_pareto_frontier(runs: Runs) -> None:
    pareto = {p["run"]: p for p in _compare_json(runs)["pareto"]}
    assert list(pareto) == list(MODELS)
    for name in MODELS:
        assert pareto[name]["metric"] == "pass@1"
        assert pareto[name]["quality"] == pytest.approx(_passes(name).mean())
        assert pareto[name]["cost"] == pytest.approx(_expected_cost(runs, name))
    assert pareto["mid"]["latency_ms"] >= 1000 * MODELS["mid"].delay_s > pareto["small"]["latency_ms"]
    assert pareto["small"]["cost"] < pareto["mid"]["cost"] < pareto["large"]["cost"]
    assert {name for name, p in pareto.items() if p["on_frontier"]} == {"small", "large"}


def _md_rows(markdown: str, section: str) -> list[list[str]]:
    body = markdown.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in body.splitlines()
        if line.startswith("| ") and not line.startswith("| run |") and not line.startswith("| metric |")
    ]


def test_markdown_html_and_text_show_the_same_numbers(runs: Runs, tmp_path: Path) -> None:
    data = _compare_json(runs)
    stem, plot = tmp_path / "decision", tmp_path / "pareto.svg"
    out = _compare(runs, "--report", str(stem), "--plot", str(plot))
    md = (tmp_path / "decision.md").read_text()
    pareto = {p["run"]: p for p in data["pareto"]}
    rows = _md_rows(md, "Quality / latency / cost: Pareto frontier")
    assert [(r[0], float(r[1]), float(r[3]), r[4]) for r in rows] == [
        (
            name,
            pytest.approx(p["quality"]),
            pytest.approx(p["cost"], rel=1e-3),
            "yes" if p["on_frontier"] else "no",
        )
        for name, p in pareto.items()
    ]
    for pair in data["comparisons"]:
        [m] = [x for x in pair["metrics"] if x["metric"] == "pass@1"]
        [row] = [r for r in _md_rows(md, f"Offline: A = {pair['a']} vs B = {pair['b']}") if r[0] == "pass@1"]
        assert row[:6] == ["pass@1", "all", str(N), f"{m['a']:.4g}", f"{m['b']:.4g}", f"{m['diff']:.4g}"]
        assert float(row[10]) == pytest.approx(m["p_holm"], abs=5e-5)
    verdicts = [
        "**Verdict: better.** B is better on pass@1",
        "**Verdict: inconclusive.** No detectable difference",
    ]
    assert all(v in md for v in verdicts)
    html = (tmp_path / "decision.html").read_text()
    assert "<td>small</td>" in html and html.count("<td>yes</td>") == 2 and "data:image/png;base64," in html
    assert b"<svg" in plot.read_bytes()
    assert re.search(r"large\s+│\s+1\s+│", out) and "Pareto frontier" in out
    assert all(v.replace("**", "") in out for v in verdicts)


def test_unknown_run_ids_and_different_task_sets_are_refused_in_one_line(runs: Runs, tmp_path: Path) -> None:
    code, _, out = _invoke("compare", "small", "nope", "--db", runs.db)
    assert code == 2 and out.strip().count("\n") == 0
    assert "no run 'nope'" in out and "recent runs:" in out and "small" in out
    missing = tmp_path / "typo.db"
    code, _, out = _invoke("compare", "small", "large", "--db", str(missing))
    assert code == 2 and f"no run 'small': there is no run database at {missing}" in out
    assert not missing.exists()
    for args in (("small", "other-problems"), ("small", "large", "other-problems")):
        code, _, out = _invoke("compare", *args, "--db", runs.db)
        assert code == 2 and out.strip().count("\n") == 0, out
        assert "share no problem" in out and "'small'" in out and "'other-problems'" in out, out
