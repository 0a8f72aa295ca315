"""Run a test program in the sandbox and turn the result into a ``Score``.

Every executed task goes through here, so the limits applied to generated code are the same
everywhere and recorded with the run (``DEFAULT_MEMORY_MB``, the task's ``timeout_s``).

Identical programs are executed once per process: results are memoized by a hash of (command, files,
limits). Infilling tasks cut from one function rebuild the same program whenever the model (or the
reference) fills the span the same way, and sampled runs repeat completions. Timeouts and sandbox
errors are not memoized (they may depend on machine load); ``EXECUTIONS`` counts real executions.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable

from assay.eval.tasks.base import Score

MEMO_SIZE = 20_000
_memo: OrderedDict[str, Score] = OrderedDict()
_memo_lock = threading.Lock()
EXECUTIONS = {"count": 0}
"""How many programs were really executed in this process (for tests and progress reporting)."""


def _memo_key(command: list[str], files: dict[str, str], limits: object) -> str:
    blob = json.dumps([command, sorted(files.items()), repr(limits)])
    return hashlib.sha256(blob.encode()).hexdigest()


_inflight: dict[str, threading.Lock] = {}


def _once(key: str, run: Callable[[], Score]) -> Score:
    """``run()`` unless an identical program already ran (or is running: wait for it and reuse its score)."""
    with _memo_lock:
        lock = _inflight.setdefault(key, threading.Lock())
    with lock:
        with _memo_lock:
            hit = _memo.get(key)
            if hit is not None:
                _memo.move_to_end(key)
        if hit is None:
            hit = run()
            _remember(key, hit)
    with _memo_lock:
        _inflight.pop(key, None)
    return hit


def _remember(key: str, score: Score) -> None:
    if score.outcome in ("timeout", "sandbox_error"):
        return
    with _memo_lock:
        _memo[key] = score
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)

DEFAULT_MEMORY_MB = 1024
DETAIL_CHARS = 600


def _tail(text: str) -> str:
    text = text.strip()
    return text[-DETAIL_CHARS:]


def run_python_program(program: str, timeout_s: float) -> Score:
    """Execute a Python program; it passes when it exits 0 within the limits."""
    from assay.eval.sandbox import Limits, run_python

    limits = Limits(wall_s=timeout_s, cpu_s=timeout_s, memory_mb=DEFAULT_MEMORY_MB)
    key = _memo_key(["python"], {"main.py": program}, limits)
    return _once(key, lambda: _score(run_python(program, limits=limits)))


def run_command(command: list[str], files: dict[str, str], timeout_s: float, *,
                stderr_fails: bool = False, memory_mb: int = DEFAULT_MEMORY_MB, max_processes: int = 64) -> Score:
    """Execute ``command`` in a sandbox directory holding ``files`` (compiled languages).

    ``stderr_fails``: a run that writes to stderr fails even when it exits 0 (``console.assert``).
    """
    from assay.eval.sandbox import Limits, execute

    limits = Limits(wall_s=timeout_s, cpu_s=timeout_s, memory_mb=memory_mb, max_processes=max_processes)
    key = _memo_key([*command, f"stderr_fails={stderr_fails}"], files, limits)

    def run() -> Score:
        result = execute(command, files, limits=limits)
        score = _score(result)
        if score.passed and stderr_fails and result.stderr.strip():
            return Score(passed=False, outcome="failed", detail=_tail(result.stderr), exec_s=score.exec_s)
        return score

    return _once(key, run)


def _score(result) -> Score:  # noqa: ANN001 - ExecutionResult from the sandbox
    from assay.eval.sandbox import Outcome

    with _memo_lock:
        EXECUTIONS["count"] += 1
    outcome = result.outcome
    name = outcome.value if hasattr(outcome, "value") else str(outcome)
    name = str(name).lower()
    passed = outcome == Outcome.PASSED and result.returncode == 0
    detail = "" if passed else _tail(result.stderr or result.stdout or "")
    return Score(passed=passed, outcome="passed" if passed else (name if name != "passed" else "failed"),
                 detail=detail, exec_s=result.wall_s)


def tool_runs_in_sandbox(tool: str) -> bool:
    """True when ``tool --version`` runs inside the sandbox (it sees only system directories)."""
    from assay.eval.sandbox import Limits, execute

    flag = "-version" if tool in ("java", "javac") else ("version" if tool == "go" else "--version")
    result = execute([tool, flag], limits=Limits(wall_s=20, cpu_s=20, memory_mb=4096, max_processes=256))
    return result.returncode == 0
