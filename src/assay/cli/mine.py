"""``assay data mine-commits`` / ``mine-ci-logs`` / ``judge-agreement``: evaluation sets from a user's
own repositories, and how well an LLM judge agreed with the reference metrics on a run.

The integrator wires them into the ``data`` group::

    data_app.command("mine-commits")(mine_commits_command)
    data_app.command("mine-ci-logs")(mine_ci_logs_command)
    data_app.command("judge-agreement")(judge_agreement_command)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assay.cli.common import JsonOpt, RunDbOpt, fail
from assay.errors import AssayError

console = Console()



def _finish(report, out: Path, as_json: bool, what: str) -> None:  # noqa: ANN001
    from assay.eval.mining.cases import write_cases

    written = write_cases(report.cases, out)
    summary = {**report.as_dict(), "written": written, "out": str(out)}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console.print(f"{what}: looked at {report.seen}, kept {report.kept}; wrote {written} cases to {out}")
    for reason, count in sorted(report.rejected.items(), key=lambda kv: -kv[1]):
        console.print(f"  skipped {count:>5}  {reason}")


def mine_commits_command(
    repo: Annotated[Path, typer.Argument(help="A git repository.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write.")] = Path("commit-cases.jsonl"),
    rev: Annotated[str, typer.Option("--rev", help="Revision whose history is mined.")] = "HEAD",
    max_commits: Annotated[int, typer.Option("--max-commits", help="Commits looked at, newest first.")] = 1000,
    max_cases: Annotated[int | None, typer.Option("--max-cases", help="Stop after this many commit-message cases.")] = None,
    max_diff_chars: Annotated[int, typer.Option("--max-diff-chars", help="Larger diffs are skipped.")] = 20_000,
    min_words: Annotated[int, typer.Option("--min-words", help="Shortest useful subject, in words.")] = 3,
    max_subject_chars: Annotated[int, typer.Option("--max-subject-chars", help="Longer subjects are skipped.")] = 120,
    as_json: JsonOpt = False,
) -> None:
    """Turn git history into (diff → commit message) and (diff → summary) cases, skipping merges, bots
    and trivial or templated messages."""
    from assay.eval.mining.commits import MineOptions, mine_commits

    try:
        report = mine_commits(repo, MineOptions(rev=rev, max_commits=max_commits, max_cases=max_cases,
                                                max_diff_chars=max_diff_chars, min_words=min_words,
                                                max_subject_chars=max_subject_chars))
    except AssayError as exc:
        raise fail(exc.message) from None
    _finish(report, out, as_json, "commits")


def mine_ci_logs_command(
    repo: Annotated[Path, typer.Argument(help="A git repository.")],
    test_command: Annotated[str, typer.Option("--test-command", "-t", help="Shell command that runs the test suite, e.g. 'python -m pytest -q'.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write.")] = Path("ci-cases.jsonl"),
    rev: Annotated[str, typer.Option("--rev", help="Revision whose history is searched.")] = "HEAD",
    max_commits: Annotated[int, typer.Option("--max-commits", help="Commits whose tests are run, newest first.")] = 20,
    max_cases: Annotated[int, typer.Option("--max-cases", help="Stop after this many failing runs.")] = 10,
    timeout_s: Annotated[float, typer.Option("--timeout", help="Seconds one test run may take.")] = 120.0,
    total_time_s: Annotated[float, typer.Option("--total-time", help="Seconds the whole search may take.")] = 900.0,
    tail_lines: Annotated[int, typer.Option("--tail-lines", help="Log lines given to the model.")] = 60,
    as_json: JsonOpt = False,
) -> None:
    """Run the repository's tests at recent commits (one git worktree each) and turn failing runs into
    (log tail → failing test and cause) cases. The tests run with your rights: trusted repositories only."""
    from assay.eval.mining.ci_logs import CiOptions, mine_ci_logs

    try:
        report = mine_ci_logs(repo, CiOptions(test_command=test_command, rev=rev, max_commits=max_commits,
                                              max_cases=max_cases, timeout_s=timeout_s,
                                              total_time_s=total_time_s, tail_lines=tail_lines))
    except AssayError as exc:
        raise fail(exc.message) from None
    _finish(report, out, as_json, "commits tested")


def judge_agreement_command(
    run: Annotated[str, typer.Argument(help="Run id of a feature:<id> evaluation with -O judge=MODEL.")],
    db: RunDbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Spearman correlation between the LLM judge and each reference metric over a run's samples."""
    from assay.eval.store import RunStore
    from assay.eval.tasks.feature import judge_agreement

    try:
        store = RunStore(db, read_only=True)
        try:
            samples = store.samples(run)
        finally:
            store.close()
    except AssayError as exc:
        raise fail(exc.message) from None
    if not samples:
        raise fail(f"run '{run}' has no samples")
    rows = judge_agreement(samples)
    if not rows:
        raise fail(f"run '{run}' has no judge scores; evaluate with -O judge=MODEL")
    if as_json:
        typer.echo(json.dumps({"run": run, "agreement": [r.as_dict() for r in rows]}, indent=2))
        return
    for r in rows:
        rho = "undefined" if r.rho is None else f"{r.rho:+.3f} (p = {r.p_value:.3g})"
        console.print(f"judge vs {r.metric}: Spearman rho {rho} over {r.n} samples")
