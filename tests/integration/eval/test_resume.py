"""A run killed with SIGKILL and rerun with the same command finishes without redoing stored samples,
and its final results equal an uninterrupted run's. Real ``assay eval`` processes, the real echo model
(slowed down so the kill lands mid-run), the real sandbox."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

CONFIG = """models:
  - name: slow
    provider: echo
    spec: assay-nano
    options:
      reply: "    return sorted(set(l1) & set(l2))\\n"
      delay_s: 0.25
"""
CLI = "from assay.cli.eval import eval_app; eval_app()"


def _command(config, db_file) -> list[str]:
    return [sys.executable, "-c", CLI, "eval", "humaneval", "--model", "slow", "--config", str(config),
            "--limit", "30", "--workers", "2", "--db", str(db_file), "--json"]


def _rows(db_file) -> dict[tuple[str, int], tuple]:
    with sqlite3.connect(db_file) as con:
        return {(t, i): rest for t, i, *rest in
                con.execute("SELECT task_id, \"index\", raw_output, outcome, latency_ms FROM samples")}


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_samples(tmp_path) -> None:
    config = tmp_path / "assay.yaml"
    config.write_text(CONFIG)
    db_file = tmp_path / "runs.db"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(_command(config, db_file), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if db_file.exists():
            try:
                if len(_rows(db_file)) >= 4:
                    break
            except sqlite3.OperationalError:
                pass
        assert proc.poll() is None, "the run finished before it could be killed"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _rows(db_file)
    assert 4 <= len(before) < 30

    resumed = subprocess.run(_command(config, db_file), env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    after = _rows(db_file)
    assert len(after) == 30
    assert {k: after[k] for k in before} == before  # same latency to the microsecond: not redone

    clean_db = tmp_path / "clean.db"
    clean = subprocess.run(_command(config, clean_db), env=env, capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stderr
    a, b = json.loads(resumed.stdout), json.loads(clean.stdout)
    timings = ("latency_ms_p50", "latency_ms_p95", "ttft_ms_p50")
    assert all(a[k] is not None and b[k] is not None for k in timings)
    assert {k: v for k, v in a.items() if k not in timings} == {k: v for k, v in b.items() if k not in timings}
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in _rows(clean_db).items()}
