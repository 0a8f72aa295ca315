"""Warm sandboxes: one bubblewrap sandbox kept running, each program still in its own process.

A ``WarmSandbox`` starts bubblewrap once, with the same namespaces and filesystem view as a cold
``execute``, and runs ``_zygote.py`` in it as root (``ZYGOTE_CAPS`` only). Every program is then forked
from that already started interpreter into the empty ``/tmp``, with its own throw-away uid, session and
limits; everything it left (processes, files) is killed and removed before the next program. What
programs of one warm sandbox share: the namespaces (nothing of a program survives in them), the tmpfs
size cap, and the zygote's preloaded stdlib modules. ``execute`` uses the process-wide ``POOL`` when
bubblewrap and root allow; if a warm sandbox breaks, the program is rerun in a cold sandbox.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ._mechanism import BWRAP, SANDBOX_DIR, bwrap_plan, clean_env, fresh_uid, isolation_available, log
from ._run import classify
from ._types import ExecutionResult, Limits, Outcome

ZYGOTE = Path(__file__).with_name("_zygote.py")
REPLY_MARGIN_S = 10.0
"""How long past the program's wall clock the host waits for the worker's reply before replacing it."""
MAX_IDLE = max(2, os.cpu_count() or 2)
"""Warm sandboxes kept idle per tmpfs size; more than that are closed after use."""


def warm_available() -> bool:
    """Warm sandboxes need bubblewrap and root (each program becomes a uid of its own)."""
    return os.geteuid() == 0 and isolation_available() == BWRAP


class WarmSandbox:
    """One bubblewrap sandbox running the zygote; ``run`` executes one program in it (one at a time)."""

    def __init__(self, limits: Limits) -> None:
        self.max_disk_bytes = limits.max_disk_bytes
        plan = bwrap_plan([sys.executable, "-I", "/.zygote.py"], {".zygote.py": ZYGOTE.read_bytes()}, limits,
                          zygote=True)
        self._plan = plan
        try:
            self._proc = subprocess.Popen(
                plan.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                pass_fds=plan.pass_fds, start_new_session=True, env=clean_env(SANDBOX_DIR),
            )
        except OSError:
            plan.cleanup()
            raise
        plan.close_parent_fds()
        os.set_blocking(self._proc.stdout.fileno(), False)
        self._pending = bytearray()

    def run(self, command: Sequence[str], files: dict[str, bytes], stdin: str | None, limits: Limits) -> ExecutionResult:
        """Run one program; raises ``OSError``, ``TimeoutError`` or ``ValueError`` if the worker broke."""
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
        if "sandbox_error" in reply:
            return ExecutionResult(Outcome.SANDBOX_ERROR, None, "", reply["sandbox_error"], 0.0, BWRAP)
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
                    raise TimeoutError("the warm sandbox did not answer in time")
                if sel.select(timeout=remaining):
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        raise OSError("the warm sandbox exited")
                    self._pending += chunk
        line, _, rest = bytes(self._pending).partition(b"\n")
        self._pending = bytearray(rest)
        return line

    def close(self) -> None:
        try:
            self._proc.stdin.close()
            self._proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        finally:
            self._proc.stdout.close()
            self._plan.cleanup()


class WarmPool:
    """Idle warm sandboxes, checked out by one caller at a time; thread-safe. After ``MAX_FAILURES``
    warm sandboxes in a row broke, ``enabled`` turns False for the rest of the process. A forked child
    process starts with no idle sandboxes (the parent's pipes are the parent's)."""

    MAX_FAILURES = 3

    def __init__(self) -> None:
        self._idle: dict[int, list[WarmSandbox]] = {}
        self._lock = threading.Lock()
        self._failures = 0
        self.enabled = True
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._idle = {}
        self._lock = threading.Lock()

    def run(self, command: Sequence[str], files: dict[str, bytes], stdin: str | None, limits: Limits) -> ExecutionResult:
        try:
            result = self._run(command, files, stdin, limits)
        except Exception:
            with self._lock:
                self._failures += 1
                if self._failures >= self.MAX_FAILURES and self.enabled:
                    self.enabled = False
                    log.warning("SANDBOX: %d warm sandboxes broke in a row; using cold sandboxes from now on",
                                self._failures)
            raise
        self._failures = 0
        return result

    def _run(self, command: Sequence[str], files: dict[str, bytes], stdin: str | None, limits: Limits) -> ExecutionResult:
        with self._lock:
            idle = self._idle.setdefault(limits.max_disk_bytes, [])
            sandbox = idle.pop() if idle else None
        sandbox = sandbox or WarmSandbox(limits)
        try:
            result = sandbox.run(command, files, stdin, limits)
        except BaseException:
            sandbox.close()
            raise
        with self._lock:
            idle = self._idle.setdefault(limits.max_disk_bytes, [])
            if len(idle) < MAX_IDLE:
                idle.append(sandbox)
                sandbox = None
        if sandbox is not None:
            sandbox.close()
        return result

    def close(self) -> None:
        with self._lock:
            sandboxes = [s for idle in self._idle.values() for s in idle]
            self._idle.clear()
        for sandbox in sandboxes:
            sandbox.close()


POOL = WarmPool()
atexit.register(POOL.close)
