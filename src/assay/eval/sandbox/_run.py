"""Spawn a ``Plan``, read its output incrementally under the caps, enforce the wall clock, kill the whole
sandbox, and decide the typed outcome."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import time

from ._mechanism import BWRAP, SANDBOX_DIR, Plan, clean_env
from ._types import ExecutionResult, Limits, Outcome

CHUNK = 1 << 16
EXIT_GRACE_S = 0.2
"""After the program exits, how long its leftovers may keep the output pipes open before being killed."""
MEMORY_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory",
                  "OutOfMemoryError", "memory allocation of")


def kill_uid(uid: int) -> None:
    """SIGKILL every process owned by ``uid`` (a throw-away uid: only the sandboxed program has it)."""
    tool = shutil.which("kill")
    argv = [tool, "-KILL", "--", "-1"] if tool else [sys.executable, "-S", "-c", "import os; os.kill(-1, 9)"]
    subprocess.run(argv, user=uid, group=uid, extra_groups=[], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"}, check=False)


def classify(killed_for: Outcome | None, code: int | None, cpu_s: float, stderr: str, limits: Limits) -> Outcome:
    """The outcome of a program that the sandbox did start, from how it ended (see ``Outcome``)."""
    if killed_for is not None:
        return killed_for
    if code == -signal.SIGXCPU or (code == -signal.SIGKILL and cpu_s >= limits.cpu_s - 0.05):
        return Outcome.TIMEOUT
    if code != 0 and any(marker in stderr[-4096:] for marker in MEMORY_MARKERS):
        return Outcome.MEMORY
    if code is not None and code < 0:
        return Outcome.KILLED
    return Outcome.PASSED if code == 0 else Outcome.FAILED


class _Run:
    def __init__(self, plan: Plan, limits: Limits, stdin: int | None) -> None:
        self.plan, self.limits = plan, limits
        self.started = time.monotonic()
        self.deadline = self.started + limits.wall_s
        self.proc = subprocess.Popen(
            plan.argv, stdin=stdin if stdin is not None else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, pass_fds=plan.pass_fds, cwd=plan.cwd, start_new_session=True,
            env=clean_env(plan.cwd or SANDBOX_DIR),
        )
        self.out = {self.proc.stdout.fileno(): bytearray(), self.proc.stderr.fileno(): bytearray()}
        self.total = 0
        self.killed_for: Outcome | None = None
        self.status: int | None = None
        self.cpu_s = 0.0

    def kill(self, reason: Outcome | None) -> None:
        self.killed_for = self.killed_for or reason
        if self.status is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.plan.uid is not None:
            kill_uid(self.plan.uid)

    def reap(self, block: bool = False) -> bool:
        if self.status is None:
            pid, status, usage = os.wait4(self.proc.pid, 0 if block else os.WNOHANG)
            if pid:
                self.status = status
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                self.cpu_s = usage.ru_utime + usage.ru_stime
        return self.status is not None

    def pump(self) -> None:
        sel = selectors.DefaultSelector()
        for fd in self.out:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        exited_at: float | None = None
        while sel.get_map():
            now = time.monotonic()
            if now >= self.deadline:
                self.kill(Outcome.TIMEOUT)
                break
            if exited_at is not None and now - exited_at > EXIT_GRACE_S:
                self.kill(None)
                break
            for key, _ in sel.select(timeout=min(self.deadline - now, 0.05 if exited_at else 0.25)):
                chunk = os.read(key.fd, CHUNK)
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                self.out[key.fd] += chunk[: max(0, self.limits.max_output_bytes - self.total)]
                self.total += len(chunk)
            if self.total > self.limits.max_output_bytes:
                self.kill(Outcome.OUTPUT_LIMIT)
                break
            if exited_at is None and self.reap():
                exited_at = time.monotonic()
        sel.close()
        pause = 0.001
        while not self.reap():
            if time.monotonic() >= self.deadline:
                self.kill(Outcome.TIMEOUT)
                self.reap(block=True)
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        if self.plan.mechanism != BWRAP and self.plan.uid is not None and self.killed_for is None:
            kill_uid(self.plan.uid)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def sandbox_started(self) -> bool:
        if self.plan.status_fd is None:
            return True
        os.set_blocking(self.plan.status_fd, False)
        try:
            return os.read(self.plan.status_fd, 1) == b"x"
        except BlockingIOError:
            return False

    def result(self) -> ExecutionResult:
        wall = time.monotonic() - self.started
        stdout, stderr = (bytes(buf).decode(errors="replace") for buf in self.out.values())
        code = self.proc.returncode
        if self.plan.mechanism != "rlimits-only" and code is not None and 128 < code < 128 + signal.NSIG:
            code = 128 - code
        if not self.sandbox_started():
            outcome = Outcome.SANDBOX_ERROR
        else:
            outcome = classify(self.killed_for, code, self.cpu_s, stderr, self.limits)
        return ExecutionResult(outcome, code, stdout, stderr, wall, self.plan.mechanism)


def run_plan(plan: Plan, limits: Limits, stdin: int | None) -> ExecutionResult:
    """Run a plan to completion (or to a limit) and return its typed result; never raises for anything
    the program does."""
    started = time.monotonic()
    try:
        run = _Run(plan, limits, stdin)
    except OSError as exc:
        plan.cleanup()
        return ExecutionResult(Outcome.SANDBOX_ERROR, None, "", f"could not start {plan.argv[0]}: {exc}",
                               time.monotonic() - started, plan.mechanism)
    finally:
        plan.close_parent_fds()
        if stdin is not None:
            os.close(stdin)
    try:
        run.pump()
        return run.result()
    finally:
        if run.status is None:
            run.kill(None)
            run.reap(block=True)
        plan.cleanup()
