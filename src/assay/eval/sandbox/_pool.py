"""Batched execution: one warm bubblewrap sandbox per worker, each program still in its own process.

A ``WarmSandbox`` starts bubblewrap once with the same namespaces and filesystem view as ``execute``
and runs ``_zygote.py`` in it; every program is then forked from that already started interpreter,
with a fresh directory, its own throw-away uid and the limits, and everything it left is killed before
the next one. What is shared between programs of one worker: the namespaces (nothing of a program
survives into them) and the tmpfs size cap. If the worker breaks, the job is rerun with ``execute`` and
a fresh worker is started for the next one.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path

from ._mechanism import BWRAP, SANDBOX_DIR, bwrap_plan, check_files, clean_env, fresh_uid, log
from ._run import classify
from ._types import ExecutionResult, Limits, Outcome

ZYGOTE = Path(__file__).with_name("_zygote.py")
REPLY_MARGIN_S = 10.0
"""How long past the program's wall clock the host waits for the worker's reply before replacing it."""


def warm_pool_available() -> bool:
    """Warm workers need bubblewrap and root (each program becomes a uid of its own)."""
    from ._mechanism import isolation_available

    return os.geteuid() == 0 and isolation_available() == BWRAP


class WarmSandbox:
    """One bubblewrap sandbox running the zygote; ``run`` executes one program in it."""

    def __init__(self, limits: Limits) -> None:
        plan = bwrap_plan([sys.executable, "-I", f"{SANDBOX_DIR}/.zygote.py"], {".zygote.py": ZYGOTE.read_bytes()},
                          limits, zygote=True)
        self._plan = plan
        try:
            self._proc = subprocess.Popen(
                plan.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                pass_fds=plan.pass_fds, start_new_session=True, env=clean_env(SANDBOX_DIR),
            )
        finally:
            plan.close_parent_fds()
        os.set_blocking(self._proc.stdout.fileno(), False)
        self._pending = bytearray()

    def run(self, command: Sequence[str], files: dict[str, bytes], stdin: str | None, limits: Limits) -> ExecutionResult:
        """Run one program; raises ``OSError`` or ``TimeoutError`` if the worker itself broke."""
        request = {
            "command": list(command),
            "files": {name: base64.b64encode(data).decode() for name, data in files.items()},
            "stdin": None if stdin is None else base64.b64encode(stdin.encode()).decode(),
            "limits": {"wall_s": limits.wall_s, "cpu_s": limits.cpu_s, "memory_mb": limits.memory_mb,
                       "max_processes": limits.max_processes, "max_output_bytes": limits.max_output_bytes,
                       "max_file_bytes": limits.max_file_bytes},
            "uid": fresh_uid(),
        }
        self._proc.stdin.write((json.dumps(request) + "\n").encode())
        self._proc.stdin.flush()
        reply = json.loads(self._read_line(time.monotonic() + limits.wall_s + REPLY_MARGIN_S))
        killed_for = Outcome(reply["killed_for"]) if reply["killed_for"] else None
        outcome = classify(killed_for, reply["code"], reply["cpu_s"], reply["stderr"], limits)
        return ExecutionResult(outcome, reply["code"], reply["stdout"], reply["stderr"], reply["wall_s"], BWRAP)

    def _read_line(self, deadline: float) -> bytes:
        fd = self._proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the warm sandbox worker did not answer")
                if sel.select(timeout=remaining):
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        raise OSError("the warm sandbox worker exited")
                    self._pending += chunk
        line, _, rest = bytes(self._pending).partition(b"\n")
        self._pending = bytearray(rest)
        return line

    def close(self) -> None:
        try:
            self._proc.stdin.close()
            self._proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        finally:
            self._proc.stdout.close()
            self._plan.cleanup()


def run_warm(jobs: Sequence[tuple[Sequence[str], Mapping[str, str | bytes], str | None]], limits: Limits,
             workers: int) -> list[ExecutionResult]:
    """Run ``jobs`` on ``workers`` warm sandboxes; results in the jobs' order. A job whose worker broke
    is rerun alone with ``execute``."""
    from ._api import execute

    checked = [check_files(files) for _, files, _ in jobs]
    todo: queue.Queue[int] = queue.Queue()
    for index in range(len(jobs)):
        todo.put(index)
    results: list[Future[ExecutionResult]] = [Future() for _ in jobs]

    def worker() -> None:
        sandbox: WarmSandbox | None = None
        try:
            while True:
                try:
                    index = todo.get_nowait()
                except queue.Empty:
                    return
                command, files, stdin = jobs[index]
                try:
                    sandbox = sandbox or WarmSandbox(limits)
                    results[index].set_result(sandbox.run(command, checked[index], stdin, limits))
                except Exception as exc:
                    log.warning("warm sandbox worker failed (%s: %s); rerunning the job in a fresh sandbox",
                                type(exc).__name__, exc)
                    if sandbox is not None:
                        sandbox.close()
                    sandbox = None
                    results[index].set_result(execute(list(command), files, limits=limits, stdin=stdin))
        finally:
            if sandbox is not None:
                sandbox.close()

    threads = [threading.Thread(target=worker, name=f"warm-sandbox-{n}") for n in range(max(1, workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [future.result() for future in results]
