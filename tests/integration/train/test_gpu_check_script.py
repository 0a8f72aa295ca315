"""``scripts/gpu-check``: the parts that run without a GPU.

The full CPU rehearsal (``GPU_CHECK_ALLOW_CPU=1 scripts/gpu-check``) takes over a minute here, so it is
run by hand; these tests run the real script without CUDA (it must refuse, and say so in its JSON)
and its corpus selection from the standard library. Nothing is mocked.
Run: ``python -m pytest tests/integration/train/test_gpu_check_script.py -q`` (about 5 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "gpu-check"


def test_without_cuda_the_script_refuses_and_writes_why(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GPU_CHECK_ALLOW_CPU"}
    env |= {"OUT": str(tmp_path / "out"), "GPU_CHECK_WORK": str(tmp_path / "work")}
    done = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads((tmp_path / "out" / "gpu-check.json").read_text())
    assert report["ok"] is False and report["environment"]["cuda_available"] is False
    assert report["checks"] == [{"name": "cuda available", "ok": False, "detail": "torch sees no CUDA device; "
                                 "set GPU_CHECK_ALLOW_CPU=1 to rehearse on CPU"}]
    assert not (tmp_path / "work" / "src").exists(), "nothing is built before the GPU is confirmed"


def test_corpus_sources_are_stdlib_packages_with_their_license_and_no_tests(tmp_path: Path) -> None:
    loader = SourceFileLoader("gpu_check", str(SCRIPT))
    script = module_from_spec(spec_from_loader("gpu_check", loader))
    loader.exec_module(script)
    assert script.stdlib_sources(tmp_path, 25) == 25
    packages = sorted(tmp_path.iterdir())
    assert packages and all((p / "LICENSE").is_file() for p in packages)
    files = list(tmp_path.rglob("*.py"))
    assert len(files) == 25 and not any("test" in f.relative_to(tmp_path).parts[1:] for f in files)
    assert "PYTHON SOFTWARE FOUNDATION LICENSE" in (packages[0] / "LICENSE").read_text()
