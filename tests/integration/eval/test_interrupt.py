"""Ctrl-C during ``assay eval`` ends with one line saying how many samples were saved and how to resume
(QA: it exited 130 with nothing printed). A real ``assay`` process, a slow echo model and a real SIGINT."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

CONFIG = """models:
  - name: slow
    provider: echo
    spec: assay-nano
    options:
      reply: "    return []\\n"
      delay_s: 0.4
"""


def _saved(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as con:
            return con.execute("SELECT count(*) FROM samples").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_sigint_says_how_many_samples_were_saved_and_a_rerun_resumes(tmp_path: Path) -> None:
    config, db = tmp_path / "assay.yaml", tmp_path / "runs.db"
    config.write_text(CONFIG)
    cmd = [sys.executable, "-c", "from assay.cli.main import main; main()", "eval", "humaneval", "--model", "slow", "--config", str(config),
           "--limit", "40", "--workers", "1", "--db", str(db), "--run-id", "r"]
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "300"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while _saved(db) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    saved = _saved(db)
    assert 1 <= saved < 40
    assert last == (f"interrupted: {saved} of 40 samples saved in {db} (run r); rerun the same command to resume")
    assert "Traceback" not in err

    rerun = subprocess.run(cmd + ["--json"], capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert _saved(db) == 40
