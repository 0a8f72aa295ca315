"""Ctrl-C and ``kill`` on a real ``assay train pretrain`` process keep the finished work.

The command runs in a subprocess (the way a user runs it); once it has logged its first step it is sent
SIGINT (or SIGTERM). It must finish the step in flight, checkpoint, export, say where it stopped and exit
130 (143 for SIGTERM); rerunning the same command resumes there and follows the uninterrupted loss curve.
Nothing is mocked. Run: ``python -m pytest tests/integration/train/test_pretrain_interrupt.py -q`` (~30 s on a shared 2-core machine).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assay.train.pretrain import read_metrics
from assay.train.tokenizer import train_tokenizer

SOURCE = "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n"
STEPS = 300
"""Long enough (a few seconds of this tiny model) that the signal lands mid-run however late it is sent."""


@pytest.fixture(scope="module")
def command(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("interrupt")
    src = root / "src"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}.py").write_text(SOURCE.replace("1, 2", f"{i}, 2") * 8)
    train_tokenizer([SOURCE] * 10, root / "tok", vocab_size=300)
    argv = [sys.executable, "-c", "from assay.cli.main import app; app(prog_name='assay')", "train", "pretrain", str(src), "--tokenizer", str(root / "tok"),
            "--layers", "1", "--hidden", "32", "--heads", "4", "--kv-heads", "2", "--intermediate", "64",
            "--context", "64", "--seq-len", "32", "--batch-size", "2", "--grad-accum", "1", "--warmup", "5",
            "--eval-every", "100", "--checkpoint-every", "250", "--threads", "1"]
    return root, argv


def _run(argv: list[str], out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*argv, "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def _interrupt(argv: list[str], out: Path, sig: signal.Signals, steps: int) -> subprocess.CompletedProcess[str]:
    """Start the command and send ``sig`` once ``metrics.jsonl`` has its first step."""
    child = subprocess.Popen([*argv, "--out", str(out), "--steps", str(steps)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 120
    try:
        while not read_metrics(out):
            assert child.poll() is None, f"pretrain exited before its first step: {child.communicate()[1][-2000:]}"
            assert time.monotonic() < deadline, "no step logged in 120 s"
            time.sleep(0.02)
        child.send_signal(sig)
        stdout, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


def _curve(out: Path) -> dict[int, float]:
    return {m.step: m.loss for m in read_metrics(out)}


def test_ctrl_c_keeps_the_finished_steps_and_the_rerun_resumes_on_the_same_curve(command) -> None:
    import torch

    root, argv = command
    run = root / "interrupted"
    stopped = _interrupt(argv, run, signal.SIGINT, STEPS)
    assert stopped.returncode == 130, stopped.stderr[-2000:]
    assert "Traceback" not in stopped.stderr
    found = re.search(rf"interrupted \(SIGINT\) at step (\d+) of {STEPS}: checkpoint saved in (\S+), model so far "
                      rf"in \S+; rerun the same command to resume", stopped.stderr)
    assert found, stopped.stderr[-2000:]
    step = int(found.group(1))
    assert 1 <= step < STEPS and found.group(2) == str(run / "checkpoint")
    saved = torch.load(run / "checkpoint" / "checkpoint.pt", weights_only=False)
    assert saved["state"]["step"] == step, "the checkpoint holds every finished step, not the last interval's"
    assert (run / "model" / "model.safetensors").is_file()

    resumed = _run([*argv, "--steps", str(STEPS)], run)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"trained {STEPS} steps (resumed at step {step})" in resumed.stdout

    straight = _run([*argv, "--steps", str(STEPS)], root / "straight")
    assert straight.returncode == 0, straight.stderr[-2000:]
    expected, got = _curve(root / "straight"), _curve(run)
    assert set(expected) <= set(got) and max(got) == STEPS
    assert [got[s] for s in sorted(expected)] == pytest.approx([expected[s] for s in sorted(expected)], rel=1e-6)


def test_sigterm_stops_the_same_way_and_exits_143(command) -> None:
    root, argv = command
    run = root / "terminated"
    stopped = _interrupt(argv, run, signal.SIGTERM, 100_000)
    assert stopped.returncode == 143, stopped.stderr[-2000:]
    assert re.search(r"interrupted \(SIGTERM\) at step \d+ of 100000: checkpoint saved in", stopped.stderr)
    assert (run / "checkpoint" / "checkpoint.pt").is_file() and (run / "model").is_dir()
