"""``feature:<id>`` evaluation end to end: cases mined from a git repository the test creates, answered by
echo chat models through the real engine (in-process and through a running gateway), scored with
ROUGE-L and an LLM judge (another echo model with scripted verdicts), agreement reported."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from assay.config import Settings
from assay.errors import RequestInvalid
from assay.eval.generate import GatewayGenerator, PipelineGenerator
from assay.eval.mining.cases import write_cases
from assay.eval.mining.commits import mine_commits
from assay.eval.runner import EvalOptions, run_eval
from assay.eval.store import RunStore
from assay.eval.tasks import get_task
from assay.eval.tasks.feature import FeatureTask, judge_agreement
from tests.support.live_server import live_server

MESSAGES = ["Add a cart total function", "Apply percentage discounts to a total", "Round cart totals to whole cents"]
WRITER_REPLIES = ["Round cart totals to cents", "Add a logo to the README", "Add cart total function"]
JUDGE_REPLIES = ["Nearly the same.\nScore: 4", "Unrelated.\nScore: 1", "Same meaning.\nScore: 5"]


def _git(repo: Path, *args: str) -> None:
    env = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada",
           "GIT_COMMITTER_EMAIL": "ada@example.com", "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(repo)}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def cases_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("feature")
    repo = root / "shop"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    for i, message in enumerate(MESSAGES):
        (repo / f"m{i}.py").write_text(f"def f{i}():\n    return {i}\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", message)
    (repo / "x.py").write_text("x = 1\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "wip")
    report = mine_commits(repo)
    assert [c.reference for c in report.cases] == MESSAGES[::-1]
    out = root / "cases.jsonl"
    write_cases(report.cases, out)
    return out


def settings_dict() -> dict:
    return {"models": [
        {"name": "writer", "provider": "echo", "spec": "generic", "options": {"reply": WRITER_REPLIES}},
        {"name": "judge", "provider": "echo", "spec": "generic", "options": {"reply": JUDGE_REPLIES}},
    ], "features": {"chat": "writer"}}


def test_pipeline_run_scores_rouge_and_judge_and_reports_agreement(cases_file: Path, tmp_path: Path) -> None:
    config = tmp_path / "assay.yaml"
    config.write_text(yaml.safe_dump(settings_dict()))
    task = FeatureTask("generate_commit_message", cases_file, judge="judge", config=str(config), embeddings=False)
    assert task.max_tokens == 512 and task.describe()["judge"] == "judge"
    problems = task.problems()
    assert [p.reference for p in problems] == MESSAGES[::-1]
    assert problems[0].data["chat_messages"][0][0] == "system" and "[user]" in problems[0].prompt
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        result = asyncio.run(run_eval(task, PipelineGenerator(Settings(**settings_dict()), "writer"), store,
                                      EvalOptions(workers=1)))
        samples = store.samples(result.run_id)
    finally:
        store.close()
    by_output = {s.output: s.metrics for s in samples}
    assert set(by_output) == set(WRITER_REPLIES)
    # LCS 5 of 5 output / 6 reference tokens: P = 1, R = 5/6, F1 = 10/11
    assert by_output["Round cart totals to cents"]["rouge_l"] == pytest.approx(10 / 11)
    # "add a logo to the readme" vs "apply percentage discounts to a total": LCS 1 of 6 and 6 → F1 = 1/6
    assert by_output["Add a logo to the README"]["rouge_l"] == pytest.approx(1 / 6)
    # LCS 4 of 4 / 5 tokens: P = 1, R = 4/5, F1 = 8/9
    assert by_output["Add cart total function"]["rouge_l"] == pytest.approx(8 / 9)
    assert [by_output[o]["judge"] for o in WRITER_REPLIES] == [0.75, 0.0, 1.0]
    assert all(m["judge_parsed"] == 1.0 for m in by_output.values())
    assert result.scores["rouge_l"].n == 3 and result.outcomes == {"match": 2, "mismatch": 1}
    # ranks: rouge (3, 1, 2), judge (2, 1, 3) → rho = 1 − 6·2 / (3·8) = 0.5
    (agreement,) = judge_agreement(samples)
    assert agreement.metric == "rouge_l" and agreement.n == 3 and agreement.rho == pytest.approx(0.5)


def test_assay_eval_and_judge_agreement_commands(cases_file: Path, tmp_path: Path) -> None:
    from assay.cli.eval import eval_command
    from assay.cli.mine import judge_agreement_command

    config = tmp_path / "assay.yaml"
    config.write_text(yaml.safe_dump(settings_dict()))
    db = str(tmp_path / "runs.db")
    app = typer.Typer()
    app.command("eval")(eval_command)
    app.command("agree")(judge_agreement_command)
    runner = CliRunner()
    r = runner.invoke(app, ["eval", "feature:generate_commit_message", "--model", "writer", "--data", str(cases_file),
                            "--config", str(config), "-O", "judge=judge", "-O", f"config={config}",
                            "-O", "embeddings=false", "--workers", "1", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    result = json.loads(r.output[r.output.index("{"):])
    assert result["task"] == "feature:generate_commit_message" and result["samples"] == 3
    assert set(result["scores"]) >= {"rouge_l", "judge", "judge_parsed", "pass@1"}
    r = runner.invoke(app, ["agree", result["run_id"], "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["agreement"][0]["spearman_rho"] == pytest.approx(0.5)
    r = runner.invoke(app, ["eval", "feature:generate_commit_message", "--model", "writer", "--db", db])
    assert r.exit_code == 2 and "needs --data" in r.output


def test_gateway_generator_asks_the_chat_endpoint(cases_file: Path, tmp_path: Path) -> None:
    task = FeatureTask("generate_commit_message", cases_file, embeddings=False)
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        with live_server(settings_dict()) as srv:
            result = asyncio.run(run_eval(task, GatewayGenerator(srv.url, model="writer"), store,
                                          EvalOptions(workers=1)))
        outputs = sorted(s.output for s in store.samples(result.run_id))
    finally:
        store.close()
    assert outputs == sorted(WRITER_REPLIES)


def test_small_family_and_feature_filtering(cases_file: Path, tmp_path: Path) -> None:
    summary_rows = tmp_path / "mixed.jsonl"
    summary_rows.write_text(cases_file.read_text() + json.dumps(
        {"id": "ci-1", "feature": "troubleshoot_job", "inputs": {"log": "E   assert 0 == 4"},
         "reference": "Failing test: t::test_add\nCause: assert 0 == 4"}) + "\n")
    task = get_task("feature:troubleshoot_job", path=str(summary_rows), family="small", embeddings=False)
    (problem,) = task.problems()
    assert problem.data["prefill"] == "" and task.stop == ("\n\n",) and task.max_tokens == 128
    assert [role for role, _ in problem.data["chat_messages"]] == ["user"]
    settings = Settings(models=[{"name": "w", "provider": "echo", "spec": "generic",
                                 "options": {"reply": "The failing test is t::test_add, because 0 != 4\n\nMore."}}])
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        result = asyncio.run(run_eval(task, PipelineGenerator(settings, "w"), store, EvalOptions(workers=1)))
        (sample,) = store.samples(result.run_id)
    finally:
        store.close()
    assert sample.output == "The failing test is t::test_add, because 0 != 4"
    with pytest.raises(RequestInvalid, match="no cases for feature 'explain_code'"):
        get_task("feature:explain_code", path=str(summary_rows), embeddings=False).problems()


def test_a_failing_or_silent_judge_does_not_break_scoring(cases_file: Path, tmp_path: Path) -> None:
    from assay.errors import ProviderTimeout
    from assay.eval.mining.judge import Judge

    config = tmp_path / "assay.yaml"
    config.write_text(yaml.safe_dump({"models": [
        {"name": "down", "provider": "echo", "spec": "generic", "options": {"fail_status": 500}},
        {"name": "slow", "provider": "echo", "spec": "generic", "options": {"reply": "Score: 5", "delay_s": 3}},
        {"name": "chatty", "provider": "echo", "spec": "generic", "options": {"reply": "Looks fine to me."}}]}))
    task = FeatureTask("generate_commit_message", cases_file, judge="down", config=str(config), embeddings=False)
    problem = task.problems()[0]
    score = task.score(problem, problem.reference)
    assert score.passed and score.metrics == {"rouge_l": 1.0}
    assert "judge failed: model 'down' (echo) was told to fail with HTTP 500" in score.detail
    chatty = FeatureTask("generate_commit_message", cases_file, judge="chatty", config=str(config), embeddings=False)
    assert chatty.score(problem, problem.reference).metrics == {"rouge_l": 1.0, "judge": 0.0, "judge_parsed": 0.0}
    slow = Judge(Settings(**yaml.safe_load(config.read_text())), "slow", timeout_s=0.3)
    with pytest.raises(ProviderTimeout, match="no verdict within 0.3 s"):
        slow.grade("generate_commit_message", "diff", "ref", "out")
    slow.close()
