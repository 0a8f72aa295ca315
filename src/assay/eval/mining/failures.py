"""Read a failed test run's log: which tests failed and the decisive error line (the "cause").

Understands pytest's short summary (``FAILED path::test - Error: msg``), unittest (``FAIL: test (mod.Class)``
plus the traceback's last line), ``go test`` (``--- FAIL: TestX``) and Jest (``● Suite › test``); for
anything else the last line that looks like an error is the cause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PYTEST = re.compile(r"^(?:FAILED|ERROR) (\S*(?:::|\.py)\S*)(?: - (.+))?$")
_UNITTEST = re.compile(r"^(?:FAIL|ERROR): (\S+) \(([^)]+)\)")
_GO = re.compile(r"^\s*--- FAIL: (\S+)")
_GO_CAUSE = re.compile(r"^\s+\S+\.go:\d+: (.+)$")
_JEST = re.compile(r"^\s*● (.+ › .+)$")
_EXC = re.compile(r"^(?:E\s+)?([A-Za-z_][\w.]*(?:Error|Exception|Failure|Exit|Interrupt)\b:?.*)$")
_GENERIC = re.compile(r"error|fail|exception|panic|fatal", re.IGNORECASE)


@dataclass(frozen=True)
class FailureSummary:
    tests: tuple[str, ...]
    cause: str

    @property
    def found(self) -> bool:
        return bool(self.tests or self.cause)

    def reference(self) -> str:
        """The human-readable answer a troubleshooter should give."""
        lines = []
        if self.tests:
            lines.append(f"Failing test{'s' if len(self.tests) > 1 else ''}: {', '.join(self.tests)}")
        if self.cause:
            lines.append(f"Cause: {self.cause}")
        return "\n".join(lines)


def _last_exception(lines: list[str]) -> str:
    for line in reversed(lines):
        m = _EXC.match(line.strip())
        if m:
            return m.group(1).strip()
    return ""


def summarize_failure(log: str) -> FailureSummary:
    """Failing tests (in log order, de-duplicated) and the cause, from a test run's output."""
    lines = log.splitlines()
    tests: list[str] = []
    causes: list[str] = []
    for i, line in enumerate(lines):
        if m := _PYTEST.match(line.strip()):
            tests.append(m.group(1))
            if m.group(2):
                causes.append(m.group(2).strip())
        elif m := _UNITTEST.match(line.strip()):
            tests.append(f"{m.group(2)}.{m.group(1)}" if not m.group(2).endswith(m.group(1)) else m.group(2))
            block = []
            for follow in lines[i + 1:]:
                if follow.startswith(("=====", "-----")) and block:
                    break
                block.append(follow)
            if cause := _last_exception(block):
                causes.append(cause)
        elif m := _GO.match(line):
            tests.append(m.group(1))
            for follow in lines[i + 1:i + 6]:
                if c := _GO_CAUSE.match(follow):
                    causes.append(c.group(1).strip())
                    break
        elif m := _JEST.match(line):
            tests.append(m.group(1).strip())
    cause = causes[0] if causes else _last_exception(lines)
    if not cause and not tests:
        cause = next((ln.strip() for ln in reversed(lines) if _GENERIC.search(ln)), "")
    return FailureSummary(tests=tuple(dict.fromkeys(tests)), cause=cause)
