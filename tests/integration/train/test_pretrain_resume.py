"""Resume after ``kill -9``: a killed and resumed run logs the same losses as an uninterrupted one.

A real training run is started in a subprocess, killed with SIGKILL once it has written a checkpoint
and gone past it, and resumed in this process; nothing is mocked. The subprocess paces itself with a
short sleep per logged step so the kill reliably lands mid-run.
Run: ``python -m pytest tests/integration/train/test_pretrain_resume.py -q`` (about 20 s).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assay.errors import ConfigError
from assay.train.model import ModelConfig
from assay.train.pretrain import PretrainConfig, pretrain, read_metrics
from assay.train.tokenizer import train_tokenizer

DOCS = [
    "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n",
    "import os\n\ndef read_file(path):\n    with open(path) as fh:\n        return fh.read()\n",
    "class Greeter:\n    def __init__(self, name):\n        self.name = name\n\n    def greet(self):\n        return 'hi ' + self.name\n",
    "func main() {\n\tx := add(1, 2)\n\tfmt.Println(x)\n}\n",
    "for i in range(10):\n    if i % 2 == 0:\n        continue\n    print(i)\n",
]

CHILD = """
import json, sys, time
from assay.train.pretrain import PretrainConfig, pretrain
config = PretrainConfig.from_dict(json.loads(sys.argv[1]))
pretrain(config, on_log=lambda entry: time.sleep(0.15))
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PretrainConfig]:
    root = tmp_path_factory.mktemp("resume")
    data = root / "data.jsonl"
    with data.open("w") as fh:
        for i in range(60):
            fh.write(json.dumps({"text": DOCS[i % len(DOCS)] * (1 + i % 3), "language": "python", "id": f"d{i}"}) + "\n")
    train_tokenizer(DOCS * 10, root / "tok", vocab_size=300)
    config = PretrainConfig(
        data=(str(data),), tokenizer=str(root / "tok"), out_dir=str(root / "run"),
        model=ModelConfig(hidden_size=32, num_layers=2, num_heads=4, num_kv_heads=2, intermediate_size=64,
                          context_length=128),
        seq_len=64, batch_size=4, grad_accum=2, max_steps=24, warmup_steps=4, lr=3e-3, eval_interval=6,
        checkpoint_interval=6, log_interval=1, eval_rows=4, val_fraction=0.1, chunk_chars=200,
        threads=1, progress=False, seed=7)
    return root, config


def _losses(out_dir: Path) -> list[tuple[int, float, float | None]]:
    return [(m.step, m.loss, m.val_loss) for m in read_metrics(out_dir)]


def test_killed_and_resumed_run_matches_uninterrupted_run(setup) -> None:
    import torch
    from safetensors.torch import load_file

    root, base = setup
    straight = replace(base, out_dir=str(root / "straight"))
    result = pretrain(straight)
    assert result.steps == 24 and result.resumed_from_step is None

    killed = replace(base, out_dir=str(root / "killed"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(killed.to_dict())], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = root / "killed" / "checkpoint" / "checkpoint.pt"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            steps = [m.step for m in read_metrics(root / "killed")] if ckpt.exists() else []
            if steps and max(steps) >= 8:
                break
            assert child.poll() is None, f"training subprocess exited early: {child.stderr.read().decode()[-2000:]}"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    logged_at_kill = max(m.step for m in read_metrics(root / "killed"))
    assert 8 <= logged_at_kill < 24, "the kill must land after a checkpoint and before the end"
    assert not (root / "killed" / "model").exists()

    resumed = pretrain(killed)
    assert resumed.resumed_from_step is not None and 6 <= resumed.resumed_from_step < logged_at_kill
    assert resumed.steps == 24

    expected, got = _losses(root / "straight"), _losses(root / "killed")
    assert [s for s, _, _ in got] == list(range(1, 25))
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-7)
    assert expected[-1][1] < expected[0][1] - 0.5, "the loss should fall over the run"

    a = load_file(root / "straight" / "model" / "model.safetensors")
    b = load_file(root / "killed" / "model" / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_resume_with_a_changed_config_is_refused(setup) -> None:
    root, base = setup
    config = replace(base, out_dir=str(root / "changed"), max_steps=6)
    pretrain(config)
    with pytest.raises(ConfigError, match="'lr' differs from the checkpoint's"):
        pretrain(replace(config, lr=1e-2))


def test_output_directory_loads_with_transformers(setup) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root, base = setup
    out = root / "straight" / "model"
    if not out.exists():
        pretrain(replace(base, out_dir=str(root / "straight")))
    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert model.config.model_type == "llama" and model.config.eos_token_id == tok.eos_token_id == 0
    ids = tok("<fim_prefix>def f():\n    <fim_suffix>\n<fim_middle>", return_tensors="pt").input_ids
    generated = model.generate(ids, max_new_tokens=5, do_sample=False)
    assert generated.shape[1] > ids.shape[1]
    training = json.loads((out / "training.json").read_text())
    assert training["steps"] == 24 and training["config"]["model"]["hidden_size"] == 32


def test_init_from_continues_from_saved_weights(setup) -> None:
    """Continued pretraining starts where the saved model ended: its first loss is far below a fresh start's."""
    root, base = setup
    first = replace(base, out_dir=str(root / "phase1"), max_steps=12)
    pretrain(first)
    fresh = read_metrics(root / "phase1")[0].loss
    second = replace(base, out_dir=str(root / "phase2"), max_steps=2, init_from=str(root / "phase1" / "model"))
    pretrain(second)
    continued = read_metrics(root / "phase2")[0].loss
    assert continued < fresh - 0.5


def test_init_from_refuses_a_model_of_another_shape(setup) -> None:
    root, base = setup
    source = root / "phase1" / "model"
    if not source.exists():
        pretrain(replace(base, out_dir=str(root / "phase1"), max_steps=12))
    wider = replace(base.model, hidden_size=64, intermediate_size=128)
    config = replace(base, out_dir=str(root / "wider"), model=wider, max_steps=1, init_from=str(source))
    with pytest.raises(ConfigError, match="init_from: .* has shape"):
        pretrain(config)


def _straight_run(root: Path, base: PretrainConfig) -> Path:
    out = root / "straight"
    if not (out / "model").exists():
        pretrain(replace(base, out_dir=str(out)))
    return out


def test_sigint_finishes_the_step_checkpoints_and_resumes_onto_the_same_curve(setup) -> None:
    """A real SIGINT, raised in this (main) thread while step 8 is logged: the run finishes step 9, evaluates,
    checkpoints, exports and returns; the rerun resumes at 9 and logs exactly the uninterrupted losses.
    Before, SIGINT raised KeyboardInterrupt mid-step and everything since the step-6 checkpoint was lost."""
    import signal

    root, base = setup
    expected = _losses(_straight_run(root, base))
    config = replace(base, out_dir=str(root / "sigint"))
    before = signal.getsignal(signal.SIGINT)

    def interrupt_at_8(entry) -> None:
        if entry.step == 8:
            signal.raise_signal(signal.SIGINT)

    first = pretrain(config, on_log=interrupt_at_8)
    assert (first.stopped_early, first.stop_reason, first.interrupted, first.steps) == (True, "SIGINT", True, 9)
    assert signal.getsignal(signal.SIGINT) is before, "the previous SIGINT handler must be restored"
    assert (root / "sigint" / "model" / "model.safetensors").is_file()
    assert json.loads((root / "sigint" / "model" / "training.json").read_text())["steps"] == 9

    resumed = pretrain(config)
    assert resumed.resumed_from_step == 9 and resumed.steps == 24 and resumed.stop_reason is None
    got = _losses(root / "sigint")
    assert [(s, loss) for s, loss, _ in got] == pytest.approx([(s, loss) for s, loss, _ in expected], rel=1e-6)
    assert [v for s, _, v in got if s != 9] == pytest.approx([v for s, _, v in expected if s != 9], rel=1e-6)
