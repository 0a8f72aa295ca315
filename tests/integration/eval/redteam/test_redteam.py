"""Red team: every hostile program in ``programs/`` ends with a typed outcome, its effects are contained,
and the harness goes on (a normal program passes right after it).

Nothing is mocked: real sandboxed processes, a real socket the test listens on at 127.0.0.1, a real
canary file and a fake SSH key outside the sandbox, a real secret in the test's environment. Each program
prints ``ESCAPED`` if an attack worked; the test also checks the effect from outside (canary intact,
no connection accepted, no process of the sandbox left, secret and key absent from the output).
Requires bubblewrap (``apt-get install -y bubblewrap``): the containment claims are bwrap's.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from assay.eval.sandbox import (
    Job,
    Limits,
    Outcome,
    _mechanism,
    _pool,
    execute,
    execute_many,
    isolation_available,
    run_python,
)
from assay.eval.tasks.base import DATA_DIR

PROGRAMS = Path(__file__).parent / "programs"
HUMANEVAL_DATA = DATA_DIR / "humaneval"
LIMITS = Limits(wall_s=2.0, cpu_s=1.0, memory_mb=256, max_processes=32, max_output_bytes=64_000,
                max_file_bytes=1 << 20, max_disk_bytes=8 << 20)
SECRET_NAME, SECRET = "REDTEAM_API_TOKEN", "sk-redteam-7f3a9c1e5b"
KEY_TEXT = "-----BEGIN OPENSSH PRIVATE KEY----- redteam-fake-key"
CANARY_TEXT = "canary: untouched"

EXPECTED: dict[str, set[Outcome]] = {
    "fork_bomb": {Outcome.FAILED, Outcome.TIMEOUT},
    "fork_bomb_resilient": {Outcome.TIMEOUT},
    "threads_bomb": {Outcome.FAILED, Outcome.MEMORY},
    "memory_bomb": {Outcome.MEMORY},
    "memory_bomb_single": {Outcome.MEMORY},
    "infinite_loop": {Outcome.TIMEOUT},
    "sleep_forever": {Outcome.TIMEOUT},
    "network_host_loopback": {Outcome.PASSED},
    "network_external_tcp": {Outcome.PASSED},
    "network_external_udp": {Outcome.PASSED},
    "network_interfaces": {Outcome.PASSED},
    "write_outside": {Outcome.PASSED},
    "overwrite_canary": {Outcome.PASSED},
    "delete_outside": {Outcome.PASSED},
    "read_ssh_keys": {Outcome.PASSED},
    "read_env_secret": {Outcome.PASSED},
    "proc_snoop": {Outcome.PASSED},
    "kill_parent": {Outcome.PASSED},
    "kill_everyone": {Outcome.KILLED},
    "flood_stdout": {Outcome.OUTPUT_LIMIT},
    "flood_stderr": {Outcome.OUTPUT_LIMIT},
    "flood_one_line": {Outcome.OUTPUT_LIMIT, Outcome.MEMORY},
    "raise_limits": {Outcome.MEMORY},
    "ctypes_setuid": {Outcome.PASSED},
    "ctypes_segfault": {Outcome.KILLED},
    "ptrace_attach": {Outcome.PASSED},
    "sigstop_self": {Outcome.TIMEOUT},
    "ignore_sigterm": {Outcome.TIMEOUT},
    "setsid_double_fork": {Outcome.PASSED},
    "fill_disk": {Outcome.FAILED},
    "huge_file": {Outcome.FAILED, Outcome.KILLED},
    "spawn_shell": {Outcome.PASSED},
    "recursion_bomb": {Outcome.KILLED, Outcome.MEMORY, Outcome.FAILED, Outcome.TIMEOUT},
    "read_closed_stdin": {Outcome.FAILED},
    "chmod_chown": {Outcome.PASSED},
    "symlink_out": {Outcome.PASSED},
    "write_system_dirs": {Outcome.PASSED},
    "host_sockets": {Outcome.PASSED},
    "exec_escape": {Outcome.TIMEOUT},
}


def pids_of(uids: list[int], settle_s: float = 1.0) -> list[int]:
    """Host processes still running as one of ``uids`` after up to ``settle_s`` for the kernel to reap them."""
    deadline = time.monotonic() + settle_s
    while (found := _pids_of(set(uids))) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def _pids_of(uids: set[int]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
            if uid in uids:
                found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    assert isolation_available() == "bwrap", "the red-team suite needs bubblewrap: apt-get install -y bubblewrap"
    outside = tmp_path_factory.mktemp("outside")
    canary = outside / "canary.txt"
    canary.write_text(CANARY_TEXT)
    key = tmp_path_factory.mktemp("home") / ".ssh" / "id_rsa"
    key.parent.mkdir(mode=0o700)
    key.write_text(KEY_TEXT)
    key.chmod(0o600)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    params = {"canary": str(canary), "ssh_key": str(key), "port": listener.getsockname()[1], "test_pid": os.getpid()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_NAME, SECRET)
        patch.setenv("HOME", str(key.parent.parent))
        yield {"params": params, "canary": canary, "outside": outside, "listener": listener}
    listener.close()


def record_uids(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Spy on the real uid allocation (cold sandboxes and warm ones) to look for survivors afterwards."""
    uids: list[int] = []
    real_fresh_uid = _mechanism.fresh_uid
    spy = lambda: uids.append(real_fresh_uid()) or uids[-1]  # noqa: E731
    monkeypatch.setattr(_mechanism, "fresh_uid", spy)
    monkeypatch.setattr(_pool, "fresh_uid", spy)
    return uids


@pytest.mark.parametrize("mode", ["warm", "cold"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_program_is_contained(name: str, mode: str, world, monkeypatch: pytest.MonkeyPatch) -> None:
    """``warm``: the default path (a kept-running sandbox, where leftovers could harm the next program);
    ``cold``: a fresh bubblewrap sandbox for the one program."""
    uids = record_uids(monkeypatch)
    source = (PROGRAMS / f"{name}.py").read_text()
    result = execute([sys.executable, "-I", "main.py"], {"main.py": source, "params.json": json.dumps(world["params"])},
                     limits=LIMITS, isolation=None if mode == "warm" else "bwrap")

    assert_contained(name, result, world)
    assert uids and None not in uids
    assert pids_of(uids) == []

    after = run_python("print(6 * 7)", limits=LIMITS)
    assert (after.outcome, after.stdout) == (Outcome.PASSED, "42\n")


def test_hostile_programs_run_concurrently_are_contained(world, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """All programs at once through ``execute_many`` (two workers, warm sandboxes): one program's bomb
    must not change another's outcome."""
    uids = record_uids(monkeypatch)
    names = sorted(EXPECTED)
    params = json.dumps(world["params"])
    jobs = [Job([sys.executable, "-I", "main.py"], {"main.py": (PROGRAMS / f"{n}.py").read_text(), "params.json": params})
            for n in names]
    with caplog.at_level("WARNING", logger="assay.eval.sandbox"):
        results = execute_many(jobs, limits=LIMITS, workers=2)
    assert [r.message for r in caplog.records] == [], "a warm sandbox broke and jobs fell back to cold ones"
    for name, result in zip(names, results, strict=True):
        assert_contained(name, result, world)
    assert len(set(uids)) >= len(names)
    assert pids_of(uids) == []
    after = run_python("print(6 * 7)", limits=LIMITS)
    assert (after.outcome, after.stdout) == (Outcome.PASSED, "42\n")


def assert_contained(name: str, result, world) -> None:
    assert result.outcome in EXPECTED[name], (name, result.outcome, result.returncode, result.stdout[-500:], result.stderr[-500:])
    assert result.isolation == "bwrap"
    assert result.wall_s < LIMITS.wall_s + 1.5, name
    output = result.stdout + result.stderr
    assert "ESCAPED" not in output, (name, output[-2000:])
    assert SECRET not in output and KEY_TEXT not in output, name
    assert len(result.stdout.encode()) + len(result.stderr.encode()) <= LIMITS.max_output_bytes
    assert world["canary"].read_text() == CANARY_TEXT
    assert sorted(p.name for p in world["outside"].iterdir()) == ["canary.txt"]
    with pytest.raises(BlockingIOError):
        world["listener"].accept()


def test_every_program_has_an_expectation() -> None:
    assert sorted(p.stem for p in PROGRAMS.glob("*.py")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 30


def test_human_eval_hostile_fixtures_score_as_published() -> None:
    """openai/human-eval's example samples (rm -rf via subprocess, sleep, input()) run only in the sandbox
    and give the README's 3 of 6 passing."""
    data = HUMANEVAL_DATA
    problem = json.loads((data / "example_problem.jsonl").read_text())
    samples = [json.loads(line) for line in (data / "example_samples.jsonl").read_text().splitlines() if line]
    outcomes = []
    for sample in samples:
        program = problem["prompt"] + sample["completion"] + "\n" + problem["test"] + "\n" + f"check({problem['entry_point']})"
        outcomes.append(run_python(program, limits=Limits(wall_s=3.0, cpu_s=3.0, memory_mb=256)).outcome)
    assert outcomes == [Outcome.FAILED, Outcome.TIMEOUT, Outcome.FAILED, Outcome.PASSED, Outcome.PASSED, Outcome.PASSED]
