"""How a program is wrapped: one argv builder per isolation mechanism, and probing which one works here.

Each builder turns (command, files, limits) into a ``Plan``: the argv to spawn and the host resources
(file descriptors, a host directory, an unprivileged uid) that the spawn and the clean-up need.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from assay.errors import RequestInvalid

from ._types import Limits

log = logging.getLogger("assay.eval.sandbox")

BWRAP, UNSHARE, RLIMITS_ONLY = "bwrap", "unshare", "rlimits-only"
MECHANISMS = (BWRAP, UNSHARE, RLIMITS_ONLY)
SANDBOX_DIR = "/tmp"
"""The program's working directory inside bubblewrap: a private, size-capped tmpfs."""
SYSTEM_ROOTS = ("/usr", "/etc", "/opt", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
"""Host trees made visible (read-only) inside bubblewrap; everything else (/home, /root, /tmp, /work,
/run, /var, /srv, /mnt) is absent, except the interpreter's own prefix."""
UID_BASE, UID_SPAN = 2_000_000, 1_000_000


@dataclass
class Plan:
    """A ready-to-spawn execution. ``close()`` releases what the parent holds once the child has started."""

    mechanism: str
    argv: list[str]
    pass_fds: tuple[int, ...] = ()
    cwd: str | None = None
    uid: int | None = None
    """The throw-away uid the program runs as (only when we are root), so kill-by-uid reaches every process."""
    host_dir: str | None = None
    """A host temporary directory to delete afterwards (unshare, rlimits-only)."""
    status_fd: int | None = None
    """Read end of the start marker: one byte arrives just before the program itself is executed, so
    without it the sandbox (not the program) failed; nothing the program does can take it back."""
    _parent_fds: list[int] = field(default_factory=list)

    def close_parent_fds(self) -> None:
        for fd in self._parent_fds:
            os.close(fd)
        self._parent_fds.clear()

    def cleanup(self) -> None:
        self.close_parent_fds()
        if self.status_fd is not None:
            os.close(self.status_fd)
            self.status_fd = None
        if self.host_dir is not None:
            shutil.rmtree(self.host_dir, ignore_errors=True)
            self.host_dir = None


def check_files(files: Mapping[str, str | bytes]) -> dict[str, bytes]:
    """Validate relative paths (no ``..``, not absolute, no file that is also a directory) and encode
    contents to bytes."""
    out: dict[str, bytes] = {}
    for name, content in files.items():
        path = PurePosixPath(name)
        if not name or path.is_absolute() or ".." in path.parts or name.endswith("/"):
            raise RequestInvalid(f"{name!r} must be a relative file path inside the sandbox", field="files")
        out[str(path)] = content.encode() if isinstance(content, str) else bytes(content)
    for name in out:
        for parent in PurePosixPath(name).parents[:-1]:
            if str(parent) in out:
                raise RequestInvalid(f"{str(parent)!r} cannot be both a file and the directory of {name!r}",
                                     field="files")
    return out


def clean_env(home: str) -> dict[str, str]:
    """The program's whole environment: nothing is inherited from the parent."""
    bindir = os.path.dirname(os.path.realpath(sys.executable))
    return {
        "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def rlimit_args(limits: Limits) -> list[str]:
    """``prlimit`` settings applied inside the sandbox, just before the program is executed."""
    cpu = max(1, int(-(-limits.cpu_s // 1)))
    return [
        "prlimit",
        f"--cpu={cpu}:{cpu + 1}",
        f"--as={limits.memory_mb << 20}",
        f"--nproc={limits.max_processes}",
        f"--fsize={limits.max_file_bytes}",
        "--core=0",
        "--",
    ]


def marker_args(fd: int) -> list[str]:
    """A shell step that writes the start marker and executes the program in its place. (The program
    inherits the pipe: harmless, the marker is already written; dash cannot close fds above 9.)"""
    return ["sh", "-c", f'printf x >/proc/self/fd/{fd} && exec "$@"', "sh"]


def _marker_pipe() -> tuple[int, int]:
    """The start-marker pipe, writable by the throw-away uid through /proc/self/fd."""
    read_end, write_end = os.pipe()
    os.fchmod(write_end, 0o602)
    return read_end, write_end


def drop_args(uid: int) -> list[str]:
    """``setpriv``: become ``uid`` with no groups, no capabilities and no way to gain privileges."""
    return [
        "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
    ]


def fresh_uid() -> int | None:
    """A random unused uid when we are root (the program's own, so its process limit and a kill-by-uid
    concern it alone); None when we cannot switch users."""
    return UID_BASE + secrets.randbelow(UID_SPAN) if os.geteuid() == 0 else None


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name.replace("/", "_")[:200] or "f")
    _write_all(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def stdin_fd(stdin: str | None) -> int | None:
    """A readable fd holding ``stdin`` (no pipe to feed, so no deadlock), or None for /dev/null."""
    return None if stdin is None else _memfd("stdin", stdin.encode())


def _extra_roots(command: Sequence[str]) -> list[str]:
    """Host directories outside SYSTEM_ROOTS that the program needs: the interpreter prefix and the
    directory of an absolute or PATH-found executable."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    exe = command[0] if command else ""
    found = exe if os.path.isabs(exe) else shutil.which(exe) if exe and "/" not in exe else None
    if found:
        paths.add(os.path.dirname(os.path.realpath(found)))
    under_system = tuple(root + "/" for root in SYSTEM_ROOTS)
    chosen = sorted(p for p in paths if p != "/" and not (p + "/").startswith(under_system))
    return [p for p in chosen if not any(p != q and p.startswith(q + "/") for q in chosen)]


ZYGOTE_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL")
"""What the warm worker (root inside the namespaces) keeps: enough to set up and clean up after each
program, which drops all of them on becoming its own uid."""


def bwrap_plan(command: Sequence[str], files: dict[str, bytes], limits: Limits, *, zygote: bool = False) -> Plan:
    """Bubblewrap: new net/pid/ipc/uts (and cgroup) namespaces, a root of nothing but read-only system
    trees, a size-capped tmpfs working directory, a throw-away uid (root) or a user namespace (not root).
    ``zygote``: run ``command`` (the warm worker) as root with ``ZYGOTE_CAPS`` and no rlimits, with
    ``files`` placed in ``/`` (read-only to programs); it applies the uid and the limits to each program.
    It ends when its stdin closes, not by ``--die-with-parent``: that fires when the *thread* that
    started it exits, and warm sandboxes outlive the thread that started them."""
    uid = fresh_uid()
    if zygote and uid is None:
        raise RuntimeError("the warm sandbox worker needs root")
    argv = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if uid is None:
        argv += ["--unshare-user", "--disable-userns"]
    argv += ["--new-session"] if zygote else ["--die-with-parent", "--new-session"]
    for root in SYSTEM_ROOTS:
        if os.path.islink(root):
            argv += ["--symlink", os.readlink(root), root]
        elif os.path.isdir(root):
            argv += ["--ro-bind", root, root]
    made: set[str] = set()
    for extra in _extra_roots(command):
        for parent in reversed(PurePosixPath(extra).parents[:-1]):
            if str(parent) not in made:
                made.add(str(parent))
                argv += ["--perms", "0755", "--dir", str(parent)]
        argv += ["--ro-bind", extra, extra]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--size", str(limits.max_disk_bytes), "--perms", "1777", "--tmpfs", SANDBOX_DIR]
    base = "" if zygote else SANDBOX_DIR
    plan = Plan(BWRAP, argv, uid=uid)
    dirs: set[str] = set()
    fds: list[int] = []
    for name, data in files.items():
        for parent in reversed(PurePosixPath(name).parents[:-1]):
            if str(parent) not in dirs:
                dirs.add(str(parent))
                argv += ["--perms", "0777", "--dir", f"{base}/{parent}"]
        fd = _memfd(name, data)
        fds.append(fd)
        argv += ["--perms", "0644" if zygote else "0666", "--file", str(fd), f"{base}/{name}"]
    plan.status_fd, marker = _marker_pipe()
    fds.append(marker)
    argv += ["--chdir", SANDBOX_DIR, "--clearenv"]
    for key, value in clean_env(SANDBOX_DIR).items():
        argv += ["--setenv", key, value]
    if zygote:
        argv += ["--cap-drop", "ALL"] + [arg for cap in ZYGOTE_CAPS for arg in ("--cap-add", cap)]
        argv += ["--", *command]
    else:
        argv += ["--", *(drop_args(uid) if uid is not None else []), *rlimit_args(limits), *marker_args(marker), *command]
    plan.pass_fds = tuple(fds)
    plan._parent_fds = fds
    return plan


def _host_dir(files: dict[str, bytes], uid: int | None) -> str:
    root = tempfile.mkdtemp(prefix="assay-sandbox-")
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    if uid is not None:
        for dirpath, dirnames, filenames in os.walk(root):
            for entry in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                os.lchown(entry, uid, uid)
    os.chmod(root, 0o700)
    return root


def host_plan(mechanism: str, command: Sequence[str], files: dict[str, bytes], limits: Limits) -> Plan:
    """unshare (new net/pid/ipc/uts namespaces, no private filesystem view) or rlimits-only; both run in
    a host temporary directory, as a throw-away uid when we are root."""
    uid = fresh_uid()
    if uid is not None:
        _check_reachable(command)
    home = _host_dir(files, uid)
    status_fd, marker = _marker_pipe()
    argv: list[str] = []
    if mechanism == UNSHARE:
        argv += ["unshare", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
        argv += ["--mount", "--mount-proc"] if uid is not None else ["--user"]
    if uid is not None:
        argv += drop_args(uid)
    argv += rlimit_args(limits) + marker_args(marker) + list(command)
    plan = Plan(mechanism, argv, pass_fds=(marker,), cwd=home, uid=uid, host_dir=home, status_fd=status_fd)
    plan._parent_fds = [marker]
    return plan


class Unreachable(Exception):
    """The program's executable cannot be reached by the sandbox's unprivileged uid."""


def _check_reachable(command: Sequence[str]) -> None:
    exe = command[0] if os.path.isabs(command[0]) else shutil.which(command[0]) if "/" not in command[0] else None
    if exe is None:
        return
    path = PurePosixPath(os.path.realpath(exe))
    for directory in path.parents:
        if os.path.isdir(directory) and not os.stat(directory).st_mode & 0o001:
            raise Unreachable(f"{exe} is not reachable by the sandbox's unprivileged uid ({directory} is closed "
                              "to other users); install bubblewrap or use an interpreter outside it")


def make_plan(mechanism: str, command: Sequence[str], files: dict[str, bytes], limits: Limits) -> Plan:
    if mechanism == BWRAP:
        return bwrap_plan(command, files, limits)
    return host_plan(mechanism, command, files, limits)


def _works(mechanism: str) -> bool:
    tool = {BWRAP: "bwrap", UNSHARE: "unshare"}.get(mechanism)
    if tool and not shutil.which(tool):
        return False
    if not (shutil.which("prlimit") and (os.geteuid() != 0 or shutil.which("setpriv"))):
        return False
    plan = make_plan(mechanism, ["true"], {}, Limits(wall_s=10))
    try:
        done = subprocess.run(plan.argv, pass_fds=plan.pass_fds, cwd=plan.cwd, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=10, env=clean_env(plan.cwd or SANDBOX_DIR))
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        plan.cleanup()


@functools.cache
def isolation_available() -> str:
    """The strongest mechanism that works on this machine: ``bwrap``, ``unshare`` or ``rlimits-only``.
    Anything weaker than bwrap is logged as a warning once, saying what is no longer isolated."""
    for mechanism in MECHANISMS[:-1]:
        if _works(mechanism):
            break
    else:
        mechanism = RLIMITS_ONLY
    if mechanism != BWRAP:
        log.warning(
            "SANDBOX WEAKENED: bubblewrap is not usable here, so generated code runs with %s: %s. "
            "Install bubblewrap (apt-get install -y bubblewrap) for real isolation.",
            mechanism,
            "no network and own pid namespace, but it can read every world-readable file"
            if mechanism == UNSHARE else "resource limits only: it has the network and can read world-readable files",
        )
        if os.geteuid() != 0:
            log.warning("SANDBOX WEAKENED: not root, so the program runs as you and can read and write your files.")
    return mechanism
