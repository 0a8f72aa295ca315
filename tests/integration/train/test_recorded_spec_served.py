"""A model made by assay's own pipeline is served with the spec it was trained with, end to end.

QA: ``assay train pretrain`` → ``assay models register NAME --path DIR`` → ``assay serve`` listed the model as
``generic 2048`` and sent prompts without FIM tokens or suffix; ``assay train lora`` on it trained on "plain
causal LM" text. Here the real commands run (typer's CliRunner on the real app), a real gateway serves the
result (uvicorn on a socket) and the pipeline's trace shows the prompt the model got. Nothing is mocked.
Run: ``python -m pytest tests/integration/train/test_recorded_spec_served.py -q`` (about 20 s).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.config import load_settings
from tests.support.live_server import live_server

runner = CliRunner()
CONTEXT = 256
SOURCE = "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n"


def _assay(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``assay train tokenizer`` + ``assay train pretrain`` on a toy tree: a 256-position model whose folder
    name ("model") fits no spec's match pattern."""
    root = tmp_path_factory.mktemp("recorded")
    src = root / "src"
    src.mkdir()
    (src / "a.py").write_text(SOURCE * 4)
    (src / "b.py").write_text("import os\n\ndef read_file(path):\n    with open(path) as fh:\n        return fh.read()\n" * 4)
    _assay("train", "tokenizer", str(src), "--out", str(root / "tok"), "--vocab-size", "300")
    _assay("train", "pretrain", str(src), "--tokenizer", str(root / "tok"), "--out", str(root / "run"),
           "--layers", "1", "--hidden", "32", "--heads", "4", "--kv-heads", "2", "--intermediate", "64",
           "--context", str(CONTEXT), "--seq-len", "32", "--batch-size", "2", "--grad-accum", "1", "--steps", "2",
           "--warmup", "1", "--eval-every", "2", "--checkpoint-every", "2", "--threads", "1")
    return root / "run" / "model"


def test_a_pretrained_model_registered_without_spec_is_served_with_fim(pretrained: Path, tmp_path: Path) -> None:
    config = tmp_path / "assay.yaml"
    said = _assay("models", "register", "mine", "--path", str(pretrained), "--config", str(config))
    assert "spec assay-nano" in said
    listed = json.loads(_assay("models", "list", "--config", str(config), "--json"))
    assert {"name": "mine", "spec": "assay-nano"}.items() <= next(m for m in listed if m["name"] == "mine").items()

    # also without the spec register wrote: what the folder records is read again at load
    config.write_text(config.read_text().replace("    spec: assay-nano\n", ""))
    assert load_settings(config).model("mine").spec is None
    settings = load_settings(config)
    body = {"model_name": "mine", "current_file": {"file_name": "a.py", "content_above_cursor": "def add(a, b):\n    ",
                                                   "content_below_cursor": "\n\nprint(add(1, 2))\n"}}
    with live_server(settings) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        models = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
        assert models["mine"]["family"] == "assay-nano"
        assert models["mine"]["context_length"] == CONTEXT  # the model's 256 positions, not generic's 2048
        r = client.post("/v2/code/completions", json=body)
        assert r.status_code == 200, r.text
        trace = client.get(f"/v1/traces/{r.headers['x-assay-trace-id']}")
        assert trace.status_code == 200, trace.text
    prompt = trace.json()["prompt"]
    assert prompt.startswith("<fim_prefix>def add(a, b):\n    <fim_suffix>") and prompt.endswith("<fim_middle>")
    assert "print(add(1, 2))" in prompt  # the suffix is sent


def test_lora_on_a_pretrained_model_uses_its_fim_tokens_and_records_the_spec(pretrained: Path,
                                                                             tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": SOURCE, "language": "python"}) + "\n" for _ in range(20)))
    out = tmp_path / "lora1"
    said = json.loads(_assay("train", "lora", str(pretrained), "--data", str(data), "--out", str(out), "--steps", "2",
                             "--seq-len", "16", "--batch-size", "2", "--json"))
    assert said["fim"] is True
    assert json.loads((out / "assay_lora.json").read_text())["spec"] == "assay-nano"

    config = tmp_path / "assay.yaml"
    _assay("models", "register", "tuned", "--path", str(out), "--config", str(config))
    assert load_settings(config).model("tuned").spec == "assay-nano"
