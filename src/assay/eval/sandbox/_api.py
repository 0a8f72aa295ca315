"""The public calls: ``execute`` a command, ``run_python`` a source, ``execute_many`` in parallel."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from assay.errors import RequestInvalid

from ._mechanism import MECHANISMS, Unreachable, check_files, isolation_available, make_plan, stdin_fd
from ._pool import run_warm, warm_pool_available
from ._run import run_plan
from ._types import ExecutionResult, Limits, Outcome

NO_FILES: Mapping[str, str | bytes] = types.MappingProxyType({})


def execute(
    command: list[str],
    files: Mapping[str, str | bytes] = NO_FILES,
    *,
    limits: Limits = Limits(),
    stdin: str | None = None,
    isolation: str | None = None,
) -> ExecutionResult:
    """Run ``command`` in a fresh private temporary directory holding ``files`` (relative path →
    content) and return how it ended. Relative paths in ``command`` resolve against that directory.
    ``isolation`` forces a weaker mechanism (tests); by default the strongest available is used.
    Raises ``RequestInvalid`` only for a bad call (empty command, a file path leaving the directory);
    everything the program does ends in a typed ``ExecutionResult``."""
    if not command:
        raise RequestInvalid("must name a program to run", field="command")
    mechanism = isolation or isolation_available()
    if mechanism not in MECHANISMS:
        raise RequestInvalid(f"{mechanism!r} is not one of {', '.join(MECHANISMS)}", field="isolation")
    checked = check_files(files)
    try:
        plan = make_plan(mechanism, command, checked, limits)
    except Unreachable as exc:
        return ExecutionResult(Outcome.SANDBOX_ERROR, None, "", str(exc), 0.0, mechanism)
    return run_plan(plan, limits, stdin_fd(stdin))


def run_python(source: str, *, limits: Limits = Limits(), isolation: str | None = None) -> ExecutionResult:
    """Write ``source`` to ``main.py`` and run it with this interpreter in isolated mode (``-I``)."""
    return execute([sys.executable, "-I", "main.py"], {"main.py": source}, limits=limits, isolation=isolation)


@dataclass(frozen=True)
class Job:
    """One program for ``execute_many``."""

    command: Sequence[str]
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    stdin: str | None = None


def execute_many(
    jobs: Iterable[Job], *, limits: Limits = Limits(), workers: int = 4, batched: bool | None = None
) -> list[ExecutionResult]:
    """Run every job, ``workers`` at a time, each in its own process and sandbox; results in the jobs'
    order, each as ``execute`` would give it. ``batched`` (default: whenever bubblewrap and root allow)
    reuses one warm sandbox per worker and forks each Python program from an already started
    interpreter, several times faster for short programs; see ``_pool``."""
    jobs = list(jobs)
    if batched is None:
        batched = warm_pool_available()
    if batched:
        if not warm_pool_available():
            raise RequestInvalid("batched execution needs bubblewrap and root", field="batched")
        return run_warm([(job.command, job.files, job.stdin) for job in jobs], limits, workers)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sandbox") as pool:
        return list(pool.map(lambda job: execute(list(job.command), job.files, limits=limits, stdin=job.stdin),
                             jobs))
