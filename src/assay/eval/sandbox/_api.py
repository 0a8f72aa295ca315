"""The public calls: ``execute`` a command, ``run_python`` a source, ``execute_many`` in parallel."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from assay.errors import RequestInvalid

from ._mechanism import MECHANISMS, Unreachable, check_files, isolation_available, log, make_plan, stdin_fd
from ._pool import POOL, warm_available
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

    ``isolation=None`` uses the strongest mechanism available, through a warm bubblewrap sandbox when
    running as root (see ``_pool``: same isolation, each program its own process and uid, several times
    faster); naming a mechanism (``"bwrap"``, ``"unshare"``, ``"rlimits-only"``) runs a cold sandbox
    of exactly that kind. Raises ``RequestInvalid`` only for a bad call (empty command, a file path
    leaving the directory); everything the program does ends in a typed ``ExecutionResult``."""
    if not command:
        raise RequestInvalid("must name a program to run", field="command")
    if isolation is not None and isolation not in MECHANISMS:
        raise RequestInvalid(f"{isolation!r} is not one of {', '.join(MECHANISMS)}", field="isolation")
    checked = check_files(files)
    if isolation is None and POOL.enabled and warm_available():
        try:
            return POOL.run(command, checked, stdin, limits)
        except Exception as exc:
            log.warning("warm sandbox failed (%s: %s); running the program in a cold sandbox", type(exc).__name__, exc)
    mechanism = isolation or isolation_available()
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
    jobs: Iterable[Job], *, limits: Limits = Limits(), workers: int = 4, batched: bool = True
) -> list[ExecutionResult]:
    """Run every job, ``workers`` at a time, each as ``execute`` would; results in the jobs' order.
    ``batched=False`` gives every program a cold sandbox of its own (the benchmark's baseline)."""
    isolation = None if batched else isolation_available()
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sandbox") as pool:
        return list(pool.map(
            lambda job: execute(list(job.command), job.files, limits=limits, stdin=job.stdin, isolation=isolation),
            jobs))
