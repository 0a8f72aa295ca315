"""The README's ``assay complete`` example, run as a user runs it from the checkout: the shipped assay-nano
(greedy, no config) gives a real suggestion at ``examples/fib.py:2:41``, the end of an unclosed docstring.

QA ran the old example (``examples/fib.py:5:5``, an empty line in the body) and got ``(no suggestion)``: nano
answered with a comment, which ``drop_comment_only`` removes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
NANO = ROOT / "src/assay/weights/assay-nano/model.safetensors"


@pytest.mark.skipif(not NANO.is_file(), reason="assay-nano's weights are not built (assay train nano)")
def test_readme_example_gives_a_suggestion_with_the_shipped_nano(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "assay", "complete", "examples/fib.py:2:41"], cwd=ROOT,
                          capture_output=True, text=True, timeout=240,
                          env={**os.environ, "ASSAY_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '"""'
