"""Mining real git repositories the tests create with ``git init``: commit history into commit-message and
summary cases, and failing test runs (one git worktree per commit) into CI-log cases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.errors import RequestInvalid
from assay.eval.mining.cases import read_cases
from assay.eval.mining.ci_logs import CiOptions, mine_ci_logs
from assay.eval.mining.commits import MineOptions, mine_commits

HUMAN = ("Ada Lovelace", "ada@example.com")


def git(repo: Path, *args: str, author: tuple[str, str] = HUMAN) -> str:
    name, email = author
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
           "GIT_COMMITTER_EMAIL": email, "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def commit(repo: Path, files: dict[str, str], message: str, author: tuple[str, str] = HUMAN) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A", author=author)
    git(repo, "commit", "-q", "-m", message, author=author)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def history(tmp_path: Path) -> Path:
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"README.md": "# shop\n"}, "Initial commit")
    commit(repo, {"cart.py": "def total(items):\n    return sum(items)\n"},
           "Add a cart total function\n\nThe checkout page needs the sum of the item prices before tax is added.\n\n"
           "Signed-off-by: Ada Lovelace <ada@example.com>")
    commit(repo, {"cart.py": "def total(items):\n    return sum(items)  # prices\n"}, "wip")
    commit(repo, {"README.md": "# shop\n\nA shop.\n"}, "fix typo")
    commit(repo, {"requirements.txt": "requests==2.32.0\n"}, "Bump requests from 2.31.0 to 2.32.0",
           author=("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"))
    commit(repo, {"renovate.json": "{}\n"}, "Configure the Renovate dependency bot",
           author=("renovate[bot]", "bot@renovateapp.com"))
    git(repo, "checkout", "-q", "-b", "discounts")
    commit(repo, {"discount.py": "def apply(total, pct):\n    return total * (1 - pct / 100)\n"},
           "Apply percentage discounts to a total")
    git(repo, "checkout", "-q", "main")
    commit(repo, {"cart.py": "def total(items):\n    return round(sum(items), 2)\n"},
           "Round cart totals to whole cents")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'discounts'", "discounts")
    commit(repo, {"cart.py": "def total(items):\n    return round(sum(items), 2)\n", "logo.bin": ""},
           "Tweak it")
    return repo


def test_commit_history_becomes_cases_without_merges_bots_or_trivial_messages(history: Path) -> None:
    report = mine_commits(history)
    by_id = {c.reference.splitlines()[0]: c for c in report.cases if c.feature == "generate_commit_message"}
    assert sorted(by_id) == ["Add a cart total function", "Apply percentage discounts to a total",
                             "Round cart totals to whole cents"]
    assert dict(report.rejected) == {"merge": 1, "bot": 2, "trivial_message": 3, "short_message": 1}
    assert report.seen == 10 and report.kept == 3
    add = by_id["Add a cart total function"]
    assert add.reference == ("Add a cart total function\n\nThe checkout page needs the sum of the item prices "
                             "before tax is added.")
    assert "+def total(items):" in add.inputs["diff"] and add.source["author"] == "Ada Lovelace"
    assert add.id == f"shop@{add.source['commit'][:12]}"
    summaries = [c for c in report.cases if c.feature == "summarize_merge_request"]
    assert len(summaries) == 1
    assert summaries[0].reference == "The checkout page needs the sum of the item prices before tax is added."
    assert summaries[0].inputs["title"] == "Add a cart total function"


def test_limits_and_errors(history: Path, tmp_path: Path) -> None:
    assert mine_commits(history, MineOptions(max_cases=1)).kept == 1
    assert mine_commits(history, MineOptions(max_diff_chars=40)).rejected["large_diff"] == 3
    with pytest.raises(RequestInvalid, match="does not exist"):
        mine_commits(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(RequestInvalid, match="git rev-parse"):
        mine_commits(tmp_path / "plain")


def test_mine_commits_command_writes_jsonl(history: Path, tmp_path: Path) -> None:
    import typer

    from assay.cli.mine import mine_commits_command

    app = typer.Typer()
    app.command()(mine_commits_command)
    out = tmp_path / "cases.jsonl"
    r = CliRunner().invoke(app, [str(history), "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert summary["written"] == 4 and summary["rejected"]["bot"] == 2
    assert [c.feature for c in read_cases(out)].count("generate_commit_message") == 3


CALC_OK = "def add(a, b):\n    return a + b\n"
CALC_BAD = "def add(a, b):\n    return a - b\n"
TESTS = ("import unittest\n\nfrom calc import add\n\n\nclass CalcTest(unittest.TestCase):\n"
         "    def test_add(self):\n        self.assertEqual(add(2, 2), 4)\n\n"
         "    def test_zero(self):\n        self.assertEqual(add(0, 0), 0)\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = tmp_path / "calc"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"calc.py": CALC_OK, "test_calc.py": TESTS}, "Add calc with tests")
    commit(repo, {"calc.py": CALC_BAD}, "Reuse the subtraction path for addition")
    commit(repo, {"calc.py": CALC_OK, "NOTES.md": "bug fixed\n"}, "Restore addition in add")
    return repo


def test_failing_runs_become_ci_log_cases_in_their_own_worktrees(project: Path) -> None:
    command = f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"
    report = mine_ci_logs(project, CiOptions(test_command=command, max_commits=2, timeout_s=60))
    assert report.seen == 2 and dict(report.rejected) == {"passed": 1}
    (case,) = report.cases
    assert case.feature == "troubleshoot_job"
    assert case.reference == "Failing test: test_calc.py::CalcTest::test_add\nCause: AssertionError: 0 != 4"
    assert "FAILED test_calc.py::CalcTest::test_add" in case.inputs["log"]
    assert case.source["failing_tests"] == ["test_calc.py::CalcTest::test_add"] and case.source["exit_code"] == 1
    assert case.source["commit"] == git(project, "rev-parse", "HEAD~1").strip()
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "worktree", "list").count("\n") == 1


def test_ci_mining_bounds_time_and_refuses_an_empty_command(project: Path) -> None:
    report = mine_ci_logs(project, CiOptions(test_command="sleep 5", max_commits=1, timeout_s=0.3))
    assert dict(report.rejected) == {"timeout": 1} and not report.cases
    report = mine_ci_logs(project, CiOptions(test_command="exit 3", max_commits=2))
    assert dict(report.rejected) == {"unparsed_failure": 2}
    with pytest.raises(RequestInvalid, match="test_command"):
        mine_ci_logs(project, CiOptions(test_command="  "))


def test_mine_ci_logs_command(project: Path, tmp_path: Path) -> None:
    import typer

    from assay.cli.mine import mine_ci_logs_command

    app = typer.Typer()
    app.command()(mine_ci_logs_command)
    out = tmp_path / "ci.jsonl"
    command = f"{sys.executable} -m unittest -q test_calc"
    r = CliRunner().invoke(app, [str(project), "--test-command", command, "--out", str(out), "--max-commits", "2"])
    assert r.exit_code == 0, r.output
    assert "wrote 1 cases" in r.output
    (case,) = read_cases(out)
    assert case.source["command"] == command
    assert case.reference == "Failing test: test_calc.CalcTest.test_add\nCause: AssertionError: 0 != 4"
