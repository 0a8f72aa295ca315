"""`assay complete` and `assay models` as a user runs them: real subprocesses, real models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = "def fibonacci(n):\n    if n < 2:\n        return n\n    \n\nprint(fibonacci(10))\n"
NANO = Path(__file__).resolve().parents[3] / "src/assay/weights/assay-nano/model.safetensors"


def run_assay(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assay", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=240)


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "fib.py").write_text(EXAMPLE)
    (tmp_path / "echo.yaml").write_text(
        "models:\n"
        "  - name: scripted\n    provider: echo\n    options: {mode: reply, reply: 'return fibonacci(n - 1) + fibonacci(n - 2)'}\n"
        "  - name: parrot\n    provider: echo\n    options: {mode: echo}\n")
    return tmp_path


def test_complete_prints_the_suggestion_and_traces_every_stage(workdir: Path) -> None:
    done = run_assay("complete", "fib.py:4:5", "-c", "echo.yaml", "--trace", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "return fibonacci(n - 1) + fibonacci(n - 2)"
    for stage in ("prompt sent", "raw model output", "timings:", "language=python"):
        assert stage in done.stderr


def test_complete_json_carries_the_trace(workdir: Path) -> None:
    done = run_assay("complete", "fib.py:4:5", "-c", "echo.yaml", "--trace", "--json", cwd=workdir)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["model"] == "scripted" and out["language"] == "python"
    assert out["suggestion"].startswith("return fibonacci")
    stages = [t["stage"] for t in out["trace"]["timings"]]
    assert stages == ["language", "context", "budget", "fim", "decode", "postprocess"]
    assert out["trace"]["prompt"].endswith("    ")


@pytest.mark.parametrize(("location", "message"), [("fib.py:99:1", "past the end"), ("nope.py:1:1", "not a file"),
                                                   ("fib.py", "FILE:LINE:COL")])
def test_complete_bad_locations_are_one_line_errors(workdir: Path, location: str, message: str) -> None:
    done = run_assay("complete", location, "-c", "echo.yaml", cwd=workdir)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_unknown_model_lists_the_configured_ones(workdir: Path) -> None:
    done = run_assay("complete", "fib.py:4:5", "-c", "echo.yaml", "--model", "gpt-9", cwd=workdir)
    assert done.returncode == 2
    assert "parrot, scripted" in done.stderr


def test_models_list_json_names_each_spec(workdir: Path) -> None:
    done = run_assay("models", "list", "-c", "echo.yaml", "--json", cwd=workdir)
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert set(rows) == {"scripted", "parrot"} and rows["parrot"]["provider"] == "echo"


def test_probe_reports_a_backend_that_does_not_fill_the_middle(workdir: Path) -> None:
    """An echo model repeats the prompt's last line: the probe must say it does not fill the middle."""
    done = run_assay("models", "probe", "parrot", "-c", "echo.yaml", "--json", cwd=workdir)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["fills_middle"] is False


def test_complete_on_the_embedded_model_exits_cleanly(workdir: Path) -> None:
    """Regression: a decode thread still inside torch at interpreter exit aborted the process (rc 134)."""
    assert NANO.exists(), "the embedded model's weights ship in the package"
    done = run_assay("complete", "fib.py:4:5", cwd=workdir)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Loading weights" not in done.stderr
