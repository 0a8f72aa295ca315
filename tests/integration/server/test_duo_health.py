"""GitLab Duo's health check against a running server with a real local model: a completion for
``test.rb`` containing ``def hello_world`` must answer a non-empty ``choices[0].text`` within 3 s.

Here the model is the tiny random-weight Llama (``tiny_model_dir``) with one change: its input and
output embeddings are tied, so greedy decoding repeats the prompt's last token (``<fim_middle>``, a stop
token) and answers nothing whatever the seed. ``talkative_model`` gives it an untied, seeded random
output head, so it deterministically says something. When the embedded assay-nano weights are present
the same check also runs against ``builtin:assay-nano``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import LiveServer, live_server

NANO_CONFIG = Path(__file__).resolve().parents[3] / "src" / "assay" / "weights" / "assay-nano" / "config.json"
DUO_CHECK = {"current_file": {"file_name": "test.rb", "content_above_cursor": "def hello_world",
                              "content_below_cursor": ""}, "stream": False}


def talkative_model(src: Path, dst: Path, seed: int = 1) -> Path:
    import torch
    from transformers import LlamaForCausalLM

    shutil.copytree(src, dst)
    model = LlamaForCausalLM.from_pretrained(src)
    model.config.tie_word_embeddings = False
    generator = torch.Generator().manual_seed(seed)
    head = torch.randn(model.lm_head.weight.shape, generator=generator) * 0.5
    model.lm_head.weight = torch.nn.Parameter(head)
    model.save_pretrained(dst, safe_serialization=True)
    return dst


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = talkative_model(tiny_model_dir, tmp_path_factory.mktemp("duo") / "tiny")
    models = [{"name": "tiny", "provider": "local", "path": str(path), "spec": "assay-nano",
               "device": "cpu"}]
    if NANO_CONFIG.is_file():
        models.append({"name": "nano", "provider": "local", "path": "builtin:assay-nano", "device": "cpu"})
    with live_server({"models": models}) as srv:
        yield srv


def health_check(server: LiveServer, model: str) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.post("/v2/code/completions", json={**DUO_CHECK, "model_name": model})
        start = time.monotonic()
        r = client.post("/v2/code/completions", json={**DUO_CHECK, "model_name": model})
        elapsed = time.monotonic() - start
    assert r.status_code == 200, r.text
    choices = r.json()["choices"]
    assert choices and choices[0]["text"].strip(), f"empty suggestion: {r.text}"
    assert elapsed < 3.0


@pytest.mark.parametrize("model", ["tiny", "nano"] if NANO_CONFIG.is_file() else ["tiny"])
def test_duo_health_check(server: LiveServer, model: str) -> None:
    health_check(server, model)


def test_readiness_asks_the_local_model(server: LiveServer) -> None:
    r = httpx.get(f"{server.url}/monitoring/ready", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["models"]["tiny"] == "ok"
