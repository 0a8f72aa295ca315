"""A real gateway (uvicorn, real sockets) serving GGUF files through ``provider: llamacpp``: GitLab
``/v2/code/completions`` and OpenAI ``/v1/completions`` with a suffix answer what the ``local`` provider
answers on the same weights; assay-nano exported to GGUF passes GitLab Duo's health check; and
``assay models probe`` (a real subprocess) gives the local model's answers.

llama-cpp-python is a test dependency (``pip install --find-links wheels -e ".[test]"``): without it these fail.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from assay.config import ModelConfig
from assay.providers.probe import probe
from assay.providers.registry import create_provider
from assay.train.export import export_gguf
from tests.integration.server.test_duo_health import NANO_CONFIG, health_check, talkative_model
from tests.support.live_server import LiveServer, live_server

NANO_DIR = NANO_CONFIG.parent


@pytest.fixture(scope="module")
def ggufs(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The talkative tiny model (directory and GGUF) and assay-nano as GGUF, named so its spec is matched."""
    root = tmp_path_factory.mktemp("llamacpp-gateway")
    tiny = talkative_model(tiny_model_dir, root / "tiny")
    export_gguf(str(tiny), root / "tiny.gguf", "f32", spec="assay-nano")
    export_gguf(str(NANO_DIR), root / "assay-nano.gguf", "f16")
    return {"tiny-dir": tiny, "tiny": root / "tiny.gguf", "nano": root / "assay-nano.gguf"}


def models(ggufs: dict[str, Path]) -> list[dict[str, object]]:
    """The tiny pair gets a generous time budget: their answers are compared, and a busy CI machine must not cut one."""
    patient = {"time_budget_s": 30.0}
    return [
        {"name": "tiny-local", "provider": "local", "path": str(ggufs["tiny-dir"]), "spec": "assay-nano", "device": "cpu",
         "defaults": patient},
        {"name": "tiny-gguf", "provider": "llamacpp", "path": str(ggufs["tiny"]), "spec": "assay-nano",
         "options": {"threads": 1}, "defaults": patient},
        {"name": "nano-gguf", "provider": "llamacpp", "path": str(ggufs["nano"]), "options": {"threads": 1}},
    ]


@pytest.fixture(scope="module")
def server(ggufs: dict[str, Path]) -> Iterator[LiveServer]:
    with live_server({"models": models(ggufs)}) as srv:
        yield srv


def test_gitlab_code_completions_answer_as_the_local_model(server: LiveServer) -> None:
    body = {"current_file": {"file_name": "greet.py", "content_above_cursor": "class Greeter:\n    def __init__(self",
                             "content_below_cursor": "\n\ng = Greeter('x')\n"}, "stream": False}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        got = {name: client.post("/v2/code/completions", json={**body, "model_name": name})
               for name in ("tiny-local", "tiny-gguf")}
    for r in got.values():
        assert r.status_code == 200, r.text
    texts = [r.json()["choices"][0]["text"] for r in got.values()]
    assert texts[0] == texts[1] and texts[0].strip()


def test_openai_completions_with_a_suffix_answer_as_the_local_model(server: LiveServer) -> None:
    body = {"prompt": "def add(a, b):\n    return ", "suffix": "\n\nprint(add(1, 2))\n", "max_tokens": 16,
            "temperature": 0}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        got = [client.post("/v1/completions", json={**body, "model": name}) for name in ("tiny-local", "tiny-gguf")]
    for r in got:
        assert r.status_code == 200, r.text
    local, gguf = (r.json() for r in got)
    assert gguf["model"] == "tiny-gguf"
    assert gguf["choices"][0]["text"] == local["choices"][0]["text"] != ""
    assert gguf["usage"]["prompt_tokens"] == local["usage"]["prompt_tokens"] > 0


def test_nano_gguf_passes_the_duo_health_check(server: LiveServer) -> None:
    health_check(server, "nano-gguf")


def test_models_probe_gives_the_local_models_answers(ggufs: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "assay.yaml"
    config.write_text(yaml.safe_dump({"models": models(ggufs)}))
    done = subprocess.run([sys.executable, "-m", "assay", "models", "probe", "nano-gguf", "-c", str(config), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["provider"] == "llamacpp" and report["family"] == "assay-nano"
    assert report["fills_middle"] is (done.returncode == 0)

    local = create_provider(ModelConfig(name="nano", provider="local", path="builtin:assay-nano", device="cpu"))
    expected = asyncio.run(probe(local))
    assert [c["answer"] for c in report["cases"]] == [c.answer for c in expected.cases]
    assert report["fills_middle"] is expected.fills_middle
