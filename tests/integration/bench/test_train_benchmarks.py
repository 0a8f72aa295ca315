"""The training benchmarks under ``bench/`` still run: each at tiny sizes on the CPU, as a subprocess, as a
user runs it. Only that they run and write well-formed JSON is asserted (speed is the benchmarks' own job,
never a timed test). Run: ``python -m pytest tests/integration/bench -q`` (~30 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300)


def test_train_precision_measures_both_precisions_per_size(tmp_path: Path) -> None:
    out = tmp_path / "precision.json"
    done = _run("train_precision.py", "--device", "cpu", "--sizes", "nano", "--steps", "4", "--warmup", "1",
                "--rounds", "1", "--seq-len", "64", "--batch-size", "2", "--grad-accum", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    nano = result["sizes"]["nano"]
    assert nano["parameters"] > 3_000_000 and nano["hidden_size"] == 256
    assert nano["fp32_tokens_per_s"] > 0 and nano["bf16_tokens_per_s"] > 0
    assert nano["bf16_speedup"] == round(nano["bf16_tokens_per_s"] / nano["fp32_tokens_per_s"], 2)
    assert result["machine"]["gpu"] is None and result["setup"]["timed_steps"] == 3


def test_train_precision_refuses_an_unknown_size_naming_it(tmp_path: Path) -> None:
    done = _run("train_precision.py", "--sizes", "nano,huge", "--out", str(tmp_path / "x.json"))
    assert done.returncode == 2 and "unknown size(s) huge" in done.stderr
    assert not (tmp_path / "x.json").exists()


def test_train_throughput_compares_assay_with_the_plain_loop(tmp_path: Path) -> None:
    out = tmp_path / "throughput.json"
    done = _run("train_throughput.py", "--steps", "3", "--warmup", "1", "--rounds", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["assay_tokens_per_s"] > 0 and result["plain_tokens_per_s"] > 0
    assert result["ratio"] == round(result["assay_tokens_per_s"] / result["plain_tokens_per_s"], 3)
