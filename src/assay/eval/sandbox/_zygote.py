"""The warm worker that runs inside one bubblewrap sandbox (stdlib only; run as a script, never
imported by the host).

Protocol: one JSON request per line on stdin ``{"command", "files", "stdin", "limits", "uid"}`` (files
and stdin base64), one JSON reply per line on stdout ``{"code", "cpu_s", "stdout", "stderr",
"killed_for", "wall_s"}``, or ``{"sandbox_error"}`` when the program could not be set up.

Per request: the files are written into the empty ``/tmp`` (the sandbox's tmpfs, as in a cold sandbox)
and a child is forked that gets its own session, the request's rlimits and then becomes ``uid`` (a
throw-away uid: no capabilities, no groups, no-new-privs). ``[sys.executable, "-I", "main.py"]`` runs
``main.py`` in the forked, already started interpreter as a fresh ``__main__`` module (no interpreter
start-up: this is the speed-up); any other command is exec'd. Output is read incrementally and capped
and the wall clock enforced; afterwards every process of ``uid`` is killed and reaped (this process is a
child subreaper) and ``/tmp`` emptied, so nothing of one program is left for the next.
"""

import base64
import ctypes
import json
import os
import resource
import selectors
import shutil
import signal
import sys
import time
import traceback
import types

PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 38, 36
WORKDIR = "/tmp"
EXIT_GRACE_S = 0.2
LIBC = ctypes.CDLL(None, use_errno=True)


def become_program(request, stdin, out_w, err_w):
    """In the forked child: descriptors, session, limits, identity. Runs as root until the setuid."""
    limits, uid = request["limits"], request["uid"]
    os.setsid()
    for fd, target in ((stdin, 0), (out_w, 1), (err_w, 2)):
        os.dup2(fd, target)
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    os.chdir(WORKDIR)
    cpu = max(1, -(-int(limits["cpu_s"] * 1000) // 1000))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] << 20,) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["max_processes"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["max_file_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        os._exit(126)


def run_main_py():
    """What ``python -I main.py`` does, in this already started interpreter; never returns."""
    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1,
                                       closefd=False)
    path = os.path.join(WORKDIR, "main.py")
    sys.argv = ["main.py"]
    main = types.ModuleType("__main__")
    main.__file__ = path
    sys.modules["__main__"] = main
    code = 0
    try:
        with open(path, "rb") as handle:
            program = compile(handle.read(), path, "exec")
        exec(program, main.__dict__)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException as exc:
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        code = code or 120
    os._exit(code & 0xFF)


def exec_command(command):
    """Exec any other command with the signal dispositions a fresh process expects; never returns."""
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        os.write(2, f"{command[0]}: {exc.strerror}\n".encode())
    os._exit(127)


def kill_uid(uid):
    """SIGKILL every process of ``uid`` and reap them all (they are ours: this is a child subreaper)."""
    for _ in range(100):
        helper = os.fork()
        if helper == 0:
            try:
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(helper, 0)
        settle = time.monotonic() + 0.1
        while time.monotonic() < settle:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    time.sleep(0.002)
            except ChildProcessError:
                return
    raise SystemExit(f"zygote: processes of uid {uid} survived SIGKILL")


def empty_workdir():
    for entry in os.scandir(WORKDIR):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            os.unlink(entry.path)


def prepare(request):
    """Write the files (owned by the program's uid) and return an fd holding stdin (or /dev/null)."""
    uid = request["uid"]
    for name, data in request["files"].items():
        path = os.path.join(WORKDIR, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))
    for dirpath, dirnames, filenames in os.walk(WORKDIR):
        for entry in [os.path.join(dirpath, n) for n in dirnames + filenames]:
            os.lchown(entry, uid, uid)
    if request["stdin"] is None:
        return os.open(os.devnull, os.O_RDONLY)
    stdin = os.memfd_create("stdin")
    data = memoryview(base64.b64decode(request["stdin"]))
    while data:
        data = data[os.write(stdin, data):]
    os.lseek(stdin, 0, os.SEEK_SET)
    return stdin


def run(request):
    limits = request["limits"]
    try:
        stdin = prepare(request)
    except OSError as exc:
        empty_workdir()
        return {"sandbox_error": f"could not write the program's files: {exc}"}
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    command = request["command"]
    in_process = command[1:] == ["-I", "main.py"] and os.path.realpath(command[0]) == os.path.realpath(sys.executable)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            become_program(request, stdin, out_w, err_w)
            run_main_py() if in_process else exec_command(command)
        finally:
            os._exit(125)
    for fd in (stdin, out_w, err_w):
        os.close(fd)
    deadline = started + limits["wall_s"]
    bufs = {out_r: bytearray(), err_r: bytearray()}
    total, killed_for, status, cpu_s, exited_at = 0, None, None, 0.0, None
    sel = selectors.DefaultSelector()
    for fd in bufs:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    while sel.get_map():
        now = time.monotonic()
        if now >= deadline:
            killed_for = "timeout"
            break
        if exited_at is not None and now - exited_at > EXIT_GRACE_S:
            break
        for key, _ in sel.select(timeout=min(deadline - now, 0.05 if exited_at else 0.25)):
            chunk = os.read(key.fd, 1 << 16)
            if not chunk:
                sel.unregister(key.fd)
                continue
            bufs[key.fd] += chunk[: max(0, limits["max_output_bytes"] - total)]
            total += len(chunk)
        if total > limits["max_output_bytes"]:
            killed_for = "output_limit"
            break
        if status is None:
            done, st, usage = os.wait4(pid, os.WNOHANG)
            if done:
                status, cpu_s, exited_at = st, usage.ru_utime + usage.ru_stime, time.monotonic()
    sel.close()
    while status is None and killed_for is None:
        done, st, usage = os.wait4(pid, os.WNOHANG)
        if done:
            status, cpu_s = st, usage.ru_utime + usage.ru_stime
        elif time.monotonic() >= deadline:
            killed_for = "timeout"
        else:
            time.sleep(0.005)
    wall_s = time.monotonic() - started
    kill_uid(request["uid"])
    os.close(out_r)
    os.close(err_r)
    empty_workdir()
    return {
        "code": -signal.SIGKILL if status is None else os.waitstatus_to_exitcode(status),
        "cpu_s": cpu_s,
        "stdout": bytes(bufs[out_r]).decode(errors="replace"),
        "stderr": bytes(bufs[err_r]).decode(errors="replace"),
        "killed_for": killed_for,
        "wall_s": wall_s,
    }


def main():
    if LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit("zygote: cannot become a child subreaper")
    protocol_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    empty_workdir()
    for line in sys.stdin:
        reply = run(json.loads(line))
        protocol_out.write(json.dumps(reply) + "\n")
        protocol_out.flush()


if __name__ == "__main__":
    main()
