"""The sandbox's typed vocabulary: what a run may use (``Limits``) and how it ended (``ExecutionResult``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from assay.errors import RequestInvalid


class Outcome(str, enum.Enum):  # noqa: UP042 (the contract other parts code against)
    """How a sandboxed program ended, decided in this order of precedence (first match wins)."""

    PASSED = "passed"
    """Exit status 0."""
    FAILED = "failed"
    """Non-zero exit: an assertion error, an exception, a compile error, a missing command."""
    TIMEOUT = "timeout"
    """The wall-clock or the CPU-time limit was hit."""
    MEMORY = "memory"
    """The memory limit was hit (``MemoryError``, ``bad_alloc``, an allocation refused by the address-space limit)."""
    OUTPUT_LIMIT = "output_limit"
    """stdout + stderr exceeded ``max_output_bytes``; the program was killed."""
    KILLED = "killed"
    """Killed by a signal for another reason (a crash, SIGSTOP'd then reaped, a signal it sent itself)."""
    SANDBOX_ERROR = "sandbox_error"
    """The sandbox itself could not run the program (bad setup, a mechanism that failed to start)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one execution. Every limit applies to the whole sandbox, children included,
    except ``cpu_s`` and ``memory_mb``, which apply to each process in it."""

    wall_s: float = 10.0
    cpu_s: float = 10.0
    """CPU time per process (RLIMIT_CPU), rounded up to whole seconds."""
    memory_mb: int = 1024
    """Address-space limit (RLIMIT_AS) per process."""
    max_processes: int = 64
    """Processes and threads the program may have at once (RLIMIT_NPROC on a user of its own)."""
    max_output_bytes: int = 1_000_000
    """stdout and stderr together; beyond this the program is killed with ``Outcome.OUTPUT_LIMIT``."""
    max_file_bytes: int = 10_000_000
    """Largest single file the program may write (RLIMIT_FSIZE)."""
    max_disk_bytes: int = 64_000_000
    """Size of the private temporary directory (a size-capped tmpfs under bubblewrap)."""

    def __post_init__(self) -> None:
        for name in ("wall_s", "cpu_s", "memory_mb", "max_processes", "max_output_bytes", "max_file_bytes",
                     "max_disk_bytes"):
            if not getattr(self, name) > 0:
                raise RequestInvalid(f"must be positive, got {getattr(self, name)!r}", field=f"Limits.{name}")


@dataclass(frozen=True)
class ExecutionResult:
    """What one sandboxed execution produced."""

    outcome: Outcome
    returncode: int | None
    """The exit status; negative ``-N`` when killed by signal N; None when the program never started.
    In a cold bwrap or unshare sandbox an exit status 129..192 is read as a signal, as a shell does."""
    stdout: str
    """Decoded as UTF-8 with replacement, truncated to the output limit."""
    stderr: str
    wall_s: float
    isolation: str
    """The mechanism that ran it: ``"bwrap"``, ``"unshare"`` or ``"rlimits-only"``."""

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED
