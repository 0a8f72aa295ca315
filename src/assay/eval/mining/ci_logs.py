"""Mine failing test runs into (log tail → failing test and cause) cases for ``troubleshoot_job``.

For each of the newest ``max_commits`` commits of ``rev`` the repository is checked out into its own
``git worktree`` (the user's working tree is never touched), ``test_command`` runs there through the
shell with a per-run timeout, and a run that fails becomes a case: the last ``tail_lines`` lines of
its output are the input, the failing tests and the decisive error line the reference. The whole
search stops after ``max_cases`` cases or ``total_time_s`` seconds. The command runs the
repository's own code with the user's rights: mine only repositories you trust.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from assay.errors import RequestInvalid
from assay.eval.mining.cases import FeatureCase
from assay.eval.mining.commits import MineReport
from assay.eval.mining.failures import summarize_failure
from assay.eval.mining.git import check_repo, git, log

CI_FEATURE = "troubleshoot_job"


@dataclass(frozen=True)
class CiOptions:
    test_command: str
    rev: str = "HEAD"
    max_commits: int = 20
    max_cases: int = 10
    timeout_s: float = 120.0
    """Wall-clock limit of one test run; a run over it is counted as ``timeout``, not as a case."""
    total_time_s: float = 900.0
    tail_lines: int = 60
    max_tail_chars: int = 8000


@dataclass(frozen=True)
class RunOutput:
    exit_code: int | None
    """None when the run was killed at its timeout."""
    output: str
    seconds: float


def run_command(command: str, cwd: Path, timeout_s: float) -> RunOutput:
    """Run ``command`` in a shell in ``cwd`` (own process group, killed whole at the timeout)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1", "CI": "true"}
    start = time.monotonic()
    proc = subprocess.Popen(command, shell=True, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        code = None
    return RunOutput(code, out.decode("utf-8", errors="replace"), time.monotonic() - start)


def log_tail(text: str, lines: int, max_chars: int) -> str:
    tail = "\n".join(text.rstrip().splitlines()[-lines:])
    return tail[-max_chars:]


def _test_at(root: Path, scratch: Path, sha: str, options: CiOptions, deadline: float) -> RunOutput:
    """Run the test command in a temporary worktree at ``sha`` (within ``timeout_s`` and the deadline);
    paths into the worktree in its output are made relative, as they would read in the repository."""
    tree = scratch / sha[:12]
    git(root, "worktree", "add", "--detach", "--force", str(tree), sha)
    try:
        budget = max(1.0, min(options.timeout_s, deadline - time.monotonic()))
        run = run_command(options.test_command, tree, budget)
    finally:
        git(root, "worktree", "remove", "--force", str(tree))
    return replace(run, output=run.output.replace(str(tree) + os.sep, "").replace(str(tree), "."))


def mine_ci_logs(repo: Path | str, options: CiOptions) -> MineReport:
    """Run the test command at recent commits and turn failing runs into ``troubleshoot_job`` cases."""
    if not options.test_command.strip():
        raise RequestInvalid("the test command is empty", field="test_command")
    root = check_repo(Path(repo))
    report = MineReport()
    deadline = time.monotonic() + options.total_time_s
    with tempfile.TemporaryDirectory(prefix="assay-ci-mine-") as scratch:
        try:
            for commit in log(root, options.rev, options.max_commits):
                if len(report.cases) >= options.max_cases:
                    break
                if time.monotonic() >= deadline:
                    report.rejected["time_budget"] += 1
                    break
                report.seen += 1
                run = _test_at(root, Path(scratch), commit.sha, options, deadline)
                if run.exit_code is None:
                    report.rejected["timeout"] += 1
                    continue
                if run.exit_code == 0:
                    report.rejected["passed"] += 1
                    continue
                summary = summarize_failure(run.output)
                if not summary.found:
                    report.rejected["unparsed_failure"] += 1
                    continue
                report.kept += 1
                report.cases.append(FeatureCase(
                    id=f"{root.name}@{commit.sha[:12]}:ci", feature=CI_FEATURE,
                    inputs={"log": log_tail(run.output, options.tail_lines, options.max_tail_chars),
                            "job_name": "test"},
                    reference=summary.reference(),
                    source={"repo": root.name, "commit": commit.sha, "command": options.test_command,
                            "exit_code": run.exit_code, "seconds": round(run.seconds, 3),
                            "failing_tests": list(summary.tests), "cause": summary.cause}))
        finally:
            git(root, "worktree", "prune")
    return report
