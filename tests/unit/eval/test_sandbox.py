"""The sandbox's contract: typed outcomes, limits, files, stdin, errors, and the weaker mechanisms.

Real processes in real sandboxes; nothing is mocked. The hostile programs are in
tests/integration/eval/redteam. Run: ``python -m pytest tests/unit/eval/test_sandbox.py -q``.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from assay.errors import RequestInvalid
from assay.eval.sandbox import (
    ExecutionResult,
    Job,
    Limits,
    Outcome,
    _api,
    _pool,
    execute,
    execute_many,
    isolation_available,
    run_python,
)

FAST = Limits(wall_s=3.0, cpu_s=2.0, memory_mb=256, max_output_bytes=10_000)
PY = [sys.executable, "-I", "main.py"]


@pytest.fixture(params=["warm", "cold"])
def iso(request: pytest.FixtureRequest) -> str | None:
    """``isolation=`` for a warm sandbox (the default path as root) or a cold bubblewrap one."""
    return None if request.param == "warm" else "bwrap"


def test_bubblewrap_is_the_mechanism_here() -> None:
    assert isolation_available() == "bwrap", "install bubblewrap: apt-get install -y bubblewrap"


def test_passed_failed_and_exit_codes(iso: str | None) -> None:
    ok = run_python("print('hello')", limits=FAST, isolation=iso)
    assert (ok.outcome, ok.returncode, ok.stdout, ok.isolation) == (Outcome.PASSED, 0, "hello\n", "bwrap")
    assert ok.passed and isinstance(ok, ExecutionResult)
    failed = run_python("import sys; print('oops', file=sys.stderr); sys.exit(3)", limits=FAST, isolation=iso)
    assert (failed.outcome, failed.returncode, failed.stderr) == (Outcome.FAILED, 3, "oops\n")
    error = run_python("assert 1 == 2, 'nope'", limits=FAST, isolation=iso)
    assert error.outcome is Outcome.FAILED and "AssertionError: nope" in error.stderr
    syntax = run_python("def f(:\n", limits=FAST, isolation=iso)
    assert syntax.outcome is Outcome.FAILED and "SyntaxError" in syntax.stderr


def test_killed_by_a_signal_reports_negative_code(iso: str | None) -> None:
    result = run_python("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", limits=FAST, isolation=iso)
    assert (result.outcome, result.returncode) == (Outcome.KILLED, -signal.SIGTERM)


def test_files_subdirectories_bytes_and_relative_paths(iso: str | None) -> None:
    files = {"main.py": "import pkg.mod; print(pkg.mod.X, open('data/blob.bin', 'rb').read())",
             "pkg/__init__.py": "", "pkg/mod.py": "X = 41 + 1", "data/blob.bin": b"\x00\xff"}
    result = execute([sys.executable, "main.py"], files, limits=FAST, isolation=iso)
    assert (result.outcome, result.stdout) == (Outcome.PASSED, "42 b'\\x00\\xff'\n")


def test_each_execution_gets_a_fresh_directory(iso: str | None) -> None:
    first = execute(["sh", "-c", "echo left > note.txt; ls"], limits=FAST, isolation=iso)
    second = execute(["sh", "-c", "ls; test ! -e note.txt"], limits=FAST, isolation=iso)
    assert first.stdout == "note.txt\n"
    assert (second.outcome, second.stdout) == (Outcome.PASSED, "")


def test_stdin_given_and_closed(iso: str | None) -> None:
    echoed = execute(["cat"], stdin="line one\nline two\n", limits=FAST, isolation=iso)
    assert (echoed.outcome, echoed.stdout) == (Outcome.PASSED, "line one\nline two\n")
    closed = run_python("input('enter a number')", limits=FAST, isolation=iso)
    assert closed.outcome is Outcome.FAILED and "EOFError" in closed.stderr


def test_output_cap_is_exact(iso: str | None) -> None:
    limits = Limits(wall_s=3.0, max_output_bytes=1000)
    at_cap = run_python("import sys; sys.stdout.write('a' * 600); sys.stderr.write('b' * 400)", limits=limits, isolation=iso)
    assert (at_cap.outcome, len(at_cap.stdout), len(at_cap.stderr)) == (Outcome.PASSED, 600, 400)
    over = run_python("import sys; sys.stdout.write('a' * 600); sys.stdout.flush(); sys.stderr.write('b' * 401)",
                      limits=limits, isolation=iso)
    assert over.outcome is Outcome.OUTPUT_LIMIT
    assert len(over.stdout) + len(over.stderr) == 1000


def test_cpu_limit_is_a_timeout_before_the_wall_clock(iso: str | None) -> None:
    result = run_python("while True: pass", limits=Limits(wall_s=20.0, cpu_s=1.0), isolation=iso)
    assert (result.outcome, result.returncode) == (Outcome.TIMEOUT, -signal.SIGXCPU)
    assert result.wall_s < 19


def test_wall_clock_limit(iso: str | None) -> None:
    result = run_python("import time; time.sleep(30)", limits=Limits(wall_s=1.0), isolation=iso)
    assert result.outcome is Outcome.TIMEOUT and 1.0 <= result.wall_s < 3.0


def test_memory_limit(iso: str | None) -> None:
    result = run_python("x = bytearray(600 << 20)", limits=Limits(wall_s=5.0, memory_mb=256), isolation=iso)
    assert result.outcome is Outcome.MEMORY
    fits = run_python("x = bytearray(100 << 20); print(len(x))", limits=Limits(wall_s=5.0, memory_mb=256), isolation=iso)
    assert (fits.outcome, fits.stdout) == (Outcome.PASSED, f"{100 << 20}\n")


def test_file_size_and_disk_limits(iso: str | None) -> None:
    limits = Limits(wall_s=5.0, max_file_bytes=1 << 20, max_disk_bytes=4 << 20)
    big = run_python("open('f', 'wb').write(b'0' * (2 << 20))", limits=limits, isolation=iso)
    assert big.outcome is Outcome.FAILED and "File too large" in big.stderr
    full = run_python("[open(f'f{i}', 'wb').write(b'0' * (1 << 20)) for i in range(8)]", limits=limits, isolation=iso)
    assert full.outcome is Outcome.FAILED and "No space left on device" in full.stderr


def test_process_limit(iso: str | None) -> None:
    source = "import os\nfor _ in range(20):\n    if os.fork() == 0:\n        import time; time.sleep(2); os._exit(0)\n"
    result = run_python(source, limits=Limits(wall_s=5.0, max_processes=8), isolation=iso)
    assert result.outcome is Outcome.FAILED and "BlockingIOError" in result.stderr


def test_environment_is_clean(iso: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIT_SANDBOX_SECRET", "hunter2")
    result = run_python("import os; print(sorted(os.environ))", limits=FAST, isolation=iso)
    assert result.stdout == "['HOME', 'LANG', 'PATH', 'PWD', 'PYTHONDONTWRITEBYTECODE', 'TMPDIR']\n"


@pytest.mark.parametrize("batched", [False, True])
def test_missing_program_fails_like_a_shell_would(batched: bool) -> None:
    result = execute_many([Job(["no-such-program-anywhere"])], limits=FAST, batched=batched)[0]
    assert (result.outcome, result.returncode) == (Outcome.FAILED, 127)
    assert "no-such-program-anywhere" in result.stderr


def test_a_program_cannot_pass_itself_off_as_a_sandbox_error(iso: str | None) -> None:
    result = run_python("import sys; sys.stderr.write('bwrap: prlimit: failed to execute x\\n'); sys.exit(127)",
                        limits=FAST, isolation=iso)
    assert (result.outcome, result.returncode) == (Outcome.FAILED, 127)


def test_a_sandbox_that_cannot_be_set_up_is_a_sandbox_error(iso: str | None) -> None:
    """Files larger than the sandbox's disk: the program never starts."""
    result = execute(["true"], {"big.bin": b"0" * (1 << 20)}, limits=Limits(max_disk_bytes=64 << 10), isolation=iso)
    assert (result.outcome, result.returncode) == (Outcome.SANDBOX_ERROR, None if iso is None else 1)
    assert "No space left on device" in result.stderr


@pytest.mark.parametrize("name", ["/etc/passwd", "../up.txt", "a/../../up.txt", "", "dir/"])
def test_file_paths_must_stay_inside(name: str) -> None:
    with pytest.raises(RequestInvalid, match="^files: .* must be a relative file path inside the sandbox$"):
        execute(["true"], {name: "x"})


def test_a_file_cannot_also_be_a_directory() -> None:
    with pytest.raises(RequestInvalid, match="^files: 'a' cannot be both a file and the directory of 'a/b'$"):
        execute(["true"], {"a": "file", "a/b": "under a file"})


def test_bad_calls_raise_one_line_errors() -> None:
    with pytest.raises(RequestInvalid, match="^command: "):
        execute([])
    with pytest.raises(RequestInvalid, match="^isolation: 'docker' is not one of bwrap, unshare, rlimits-only$"):
        execute(["true"], isolation="docker")
    with pytest.raises(RequestInvalid, match=r"^Limits.wall_s: must be positive, got 0$"):
        Limits(wall_s=0)


def reachable_python() -> list[str]:
    """An interpreter that a uid other than ours may execute (a pyenv under /root is not)."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if all(os.stat(d).st_mode & 0o001 for d in Path(os.path.realpath(exe)).parents):
            return [exe, "-I", "main.py"]
    raise AssertionError("no interpreter outside a closed directory; install python3 from the distribution")


@pytest.mark.parametrize("mechanism", ["unshare", "rlimits-only"])
def test_weaker_mechanisms_still_limit(mechanism: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without bubblewrap: a throw-away uid, the rlimits, a clean environment, a host temp dir removed after."""
    PY = reachable_python()
    monkeypatch.setenv("UNIT_SANDBOX_SECRET", "hunter2")
    ok = execute(PY, {"main.py": "import os; print(os.getuid(), os.getcwd(), 'UNIT_SANDBOX_SECRET' in os.environ)"},
                 limits=FAST, isolation=mechanism)
    uid, cwd, leaked = ok.stdout.split()
    assert (ok.outcome, ok.isolation, leaked) == (Outcome.PASSED, mechanism, "False")
    assert int(uid) != 0 and not Path(cwd).exists()
    flood = execute(PY, {"main.py": "while True: print('x' * 100)"}, limits=FAST, isolation=mechanism)
    assert flood.outcome is Outcome.OUTPUT_LIMIT
    sleeper = execute(PY, {"main.py": "import time; time.sleep(30)"}, limits=Limits(wall_s=1.0), isolation=mechanism)
    assert sleeper.outcome is Outcome.TIMEOUT
    memory = execute(PY, {"main.py": "x = bytearray(600 << 20)"}, limits=FAST, isolation=mechanism)
    assert memory.outcome is Outcome.MEMORY
    secret = execute(PY, {"main.py": "print(open('/root/.bashrc').read())"}, limits=FAST, isolation=mechanism)
    assert secret.outcome is Outcome.FAILED and "PermissionError" in secret.stderr


def test_unshare_has_no_network() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        source = f"import socket; socket.create_connection(('127.0.0.1', {listener.getsockname()[1]}), timeout=1)"
        result = execute(reachable_python(), {"main.py": source}, limits=FAST, isolation="unshare")
        assert result.outcome is Outcome.FAILED
        assert "Network is unreachable" in result.stderr or "ConnectionRefusedError" in result.stderr
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_weaker_mechanism_reports_an_unreachable_interpreter(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    tool = closed / "tool"
    tool.write_text("#!/bin/sh\necho hi\n")
    tool.chmod(0o755)
    result = execute([str(tool)], limits=FAST, isolation="rlimits-only")
    assert result.outcome is Outcome.SANDBOX_ERROR and result.returncode is None
    assert f"{tool} is not reachable by the sandbox's unprivileged uid" in result.stderr


MIXED = [
    (Job(PY, {"main.py": "print(sum(range(10)))"}), Outcome.PASSED, "45\n"),
    (Job(PY, {"main.py": "raise SystemExit(4)"}), Outcome.FAILED, ""),
    (Job(PY, {"main.py": "import time; time.sleep(30)"}), Outcome.TIMEOUT, ""),
    (Job(PY, {"main.py": "x = bytearray(600 << 20)"}), Outcome.MEMORY, ""),
    (Job(PY, {"main.py": "print(input())"}, stdin="from stdin\n"), Outcome.PASSED, "from stdin\n"),
    (Job(["sh", "-c", "cat data/in.txt; exit 2"], {"data/in.txt": "shell\n"}), Outcome.FAILED, "shell\n"),
    (Job(PY, {"main.py": "print('y' * 20000)"}), Outcome.OUTPUT_LIMIT, None),
]


@pytest.mark.parametrize("batched", [False, True])
def test_execute_many_keeps_order_and_outcomes(batched: bool) -> None:
    results = execute_many([job for job, _, _ in MIXED], limits=Limits(wall_s=1.5, memory_mb=256, max_output_bytes=10_000),
                           workers=2, batched=batched)
    assert [r.outcome for r in results] == [outcome for _, outcome, _ in MIXED]
    assert [r.stdout for r, (_, _, out) in zip(results, MIXED, strict=True) if out is not None] == [
        out for _, _, out in MIXED if out is not None]
    assert results[1].returncode == 4


def test_warm_sandbox_runs_python_like_a_fresh_python_I() -> None:
    source = ("import sys, os, pickle\nclass Local: pass\n"
              "print(__name__, __file__, sys.argv, sys.flags.isolated, os.getcwd(), len(pickle.dumps(Local())),\n"
              "      sys.stdout.encoding, sys.stderr.errors, sys.path)\n")
    warm = run_python(source)
    cold = run_python(source, isolation="bwrap")
    assert warm.stdout == cold.stdout
    assert warm.stdout.startswith("__main__ /tmp/main.py ['main.py'] 1 /tmp ")


def test_broken_warm_sandbox_falls_back_to_cold_sandboxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "zygote.py"
    broken.write_text("import sys\nsys.stdin.readline()\nsys.exit(1)\n")
    monkeypatch.setattr(_pool, "ZYGOTE", broken)
    monkeypatch.setattr(_api, "POOL", _pool.WarmPool())
    jobs = [Job(PY, {"main.py": f"print({n})"}) for n in range(5)]
    with caplog.at_level("WARNING", logger="assay.eval.sandbox"):
        results = execute_many(jobs, limits=FAST, workers=1)
    assert [(r.outcome, r.stdout) for r in results] == [(Outcome.PASSED, f"{n}\n") for n in range(5)]
    messages = [record.message for record in caplog.records]
    assert len(messages) == 4 and all("warm sandbox failed" in m for m in messages[:2] + messages[3:])
    assert "3 warm sandboxes broke in a row; using cold sandboxes from now on" in messages[2]
    assert not _api.POOL.enabled


def test_warm_sandbox_leaves_nothing_for_the_next_program() -> None:
    sandbox = _pool.WarmSandbox(FAST)
    try:
        daemon = ("import os, time\nopen('left.txt', 'w').write('x')\nos.mkdir('dir')\n"
                  "if os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint(os.getuid())\n")
        first = sandbox.run(PY, {"main.py": daemon.encode()}, None, FAST)
        uid = int(first.stdout)
        probe = "import os; print(os.getuid(), sorted(os.listdir('.')), sorted(os.listdir('/tmp')))"
        second = sandbox.run(PY, {"main.py": probe.encode()}, None, FAST)
    finally:
        sandbox.close()
    assert first.outcome is Outcome.PASSED
    other_uid, listing = second.stdout.split(" ", 1)
    assert int(other_uid) != uid and listing == "['main.py'] ['main.py']\n"
    assert not any(_uid_of(pid) == uid for pid in os.listdir("/proc") if pid.isdigit())


def _uid_of(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def test_warm_sandbox_outlives_the_thread_that_started_it(caplog: pytest.LogCaptureFixture,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_api, "POOL", _pool.WarmPool())
    with caplog.at_level("WARNING", logger="assay.eval.sandbox"):
        first = execute_many([Job(PY, {"main.py": "print(1)"})], limits=FAST, workers=1)
        second = execute_many([Job(PY, {"main.py": "print(2)"})], limits=FAST, workers=1)
    assert [first[0].stdout, second[0].stdout] == ["1\n", "2\n"]
    assert caplog.records == []
    _api.POOL.close()


def test_warm_sandbox_ends_when_its_owner_lets_go() -> None:
    sandbox = _pool.WarmSandbox(FAST)
    pid = sandbox._proc.pid
    sandbox.close()
    assert sandbox._proc.returncode == 0 and _uid_of(str(pid)) is None
