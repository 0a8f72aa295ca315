"""``assay models register`` into assay.yaml, safetensors export, and the GGUF file's metadata (read back
with the ``gguf`` package's reader). The llama.cpp parity check is in tests/integration/train."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from assay.cli.export import export, register, register_model
from assay.config import load_settings
from assay.errors import ConfigError

CONFIG = """\
# team gateway
server:
  port: 6001   # keep this port
models:
  - name: remote
    provider: openai
    base_url: http://localhost:8000/v1
features:
  chat: remote
"""


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("export")(export)
    app.command("register")(register)
    return app


def test_register_keeps_the_rest_of_the_file(tiny_model_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "assay.yaml"
    config.write_text(CONFIG)
    run = CliRunner().invoke(_app(), ["register", "mine", "--path", str(tiny_model_dir), "--spec", "assay-nano",
                                      "--config", str(config)])
    assert run.exit_code == 0, run.output
    text = config.read_text()
    assert text.startswith(CONFIG.split("features:")[0]) and text.endswith("features:\n  chat: remote\n")
    settings = load_settings(config)
    assert settings.server.port == 6001 and settings.features.chat == "remote"
    assert [m.name for m in settings.models] == ["remote", "mine"]
    mine = settings.model("mine")
    assert mine.provider == "local" and mine.path == str(tiny_model_dir.resolve()) and mine.spec == "assay-nano"

    again = CliRunner().invoke(_app(), ["register", "mine", "--path", str(tiny_model_dir), "--config", str(config)])
    assert again.exit_code == 2 and "already configured" in again.output
    register_model("mine", tiny_model_dir, config=config, replace=True, make_default=True)
    assert [m.name for m in load_settings(config).models] == ["mine", "remote"]


def test_register_json_says_what_was_written_and_where(tiny_model_dir: Path, tmp_path: Path) -> None:
    import json

    config = tmp_path / "assay.yaml"
    config.write_text(CONFIG)
    run = CliRunner().invoke(_app(), ["register", "mine", "--path", str(tiny_model_dir), "--config", str(config),
                                      "--default", "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.output) == {"name": "mine", "provider": "local", "path": str(tiny_model_dir.resolve()),
                                      "spec": load_settings(config).model("mine").spec,
                                      "config": str(config.resolve()), "default": True}
    assert [m.name for m in load_settings(config).models] == ["mine", "remote"]


def test_register_into_a_new_file_keeps_the_builtin_default(tiny_model_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "new" / "assay.yaml"
    entry = register_model("mine", tiny_model_dir, config=config)
    settings = load_settings(config)
    assert [m.name for m in settings.models] == ["assay-nano", "mine"]
    assert settings.models[0].path == "builtin:assay-nano"
    assert "spec" not in entry


def test_register_refuses_what_is_not_a_model(tmp_path: Path) -> None:
    config = tmp_path / "assay.yaml"
    config.write_text(CONFIG)
    with pytest.raises(ConfigError, match="neither a model directory"):
        register_model("x", tmp_path, config=config)
    (tmp_path / "notes.gguf").write_text("not a gguf")
    with pytest.raises(ConfigError, match="is not a GGUF file"):
        register_model("x", tmp_path / "notes.gguf", config=config)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="unknown model spec"):
        register_model("x", tmp_path / "m", config=config, spec="nope")
    assert config.read_text() == CONFIG


def test_register_a_gguf_file_serves_it_with_llamacpp(tmp_path: Path) -> None:
    """Only the file's magic is read at registration; loading it is the llamacpp provider's job (tested there)."""
    config = tmp_path / "assay.yaml"
    config.write_text(CONFIG)
    gguf_file = tmp_path / "starcoder2-3b-q4.gguf"
    gguf_file.write_bytes(b"GGUF" + bytes(60))
    entry = register_model("starcoder-gguf", gguf_file, config=config)
    assert entry == {"name": "starcoder-gguf", "provider": "llamacpp", "path": str(gguf_file.resolve()),
                     "spec": "starcoder"}
    settings = load_settings(config)
    assert settings.model("starcoder-gguf").provider == "llamacpp"


def test_safetensors_export_loads_and_matches(tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    out = tmp_path / "st"
    run = CliRunner().invoke(_app(), ["export", str(tiny_model_dir), "--format", "safetensors", "--out", str(out),
                                      "--dtype", "float16", "--json"])
    assert run.exit_code == 0, run.output
    exported = AutoModelForCausalLM.from_pretrained(out)
    original = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert exported.dtype == torch.float16
    ids = torch.tensor([[1, 5, 9, 30, 40]])
    with torch.no_grad():
        a = exported.float()(ids).logits
        b = original(ids).logits
    assert torch.allclose(a, b, atol=1e-2)


def test_gguf_metadata_and_tensors(tiny_model_dir: Path, tmp_path: Path) -> None:
    import gguf
    import numpy as np
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "m.gguf"
    run = CliRunner().invoke(_app(), ["export", str(tiny_model_dir), "--format", "gguf", "--out", str(out),
                                      "--spec", "assay-nano"])
    assert run.exit_code == 0, run.output
    reader = gguf.GGUFReader(out)
    fields = {k: f.contents() for k, f in reader.fields.items()}
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert fields["general.architecture"] == "llama"
    assert fields["tokenizer.ggml.model"] == "gpt2" and fields["tokenizer.ggml.pre"] == "gpt-2"
    assert fields["tokenizer.ggml.tokens"][: len(tok)] == tok.convert_ids_to_tokens(list(range(len(tok))))
    assert fields["tokenizer.ggml.eos_token_id"] == tok.eos_token_id
    assert fields["tokenizer.ggml.fim_pre_token_id"] == tok.convert_tokens_to_ids("<fim_prefix>")
    assert fields["tokenizer.ggml.token_type"][tok.eos_token_id] == gguf.TokenType.CONTROL
    assert len(fields["tokenizer.ggml.merges"]) > 0
    tensors = {t.name: t for t in reader.tensors}
    assert tensors["blk.0.attn_q.weight"].tensor_type == gguf.GGMLQuantizationType.F16
    assert tensors["blk.0.attn_norm.weight"].tensor_type == gguf.GGMLQuantizationType.F32
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    embed = model.model.embed_tokens.weight.detach().numpy()
    assert np.allclose(np.asarray(tensors["token_embd.weight"].data, dtype=np.float32).reshape(embed.shape), embed,
                       atol=1e-3)


def test_unknown_format_is_a_one_line_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    run = CliRunner().invoke(_app(), ["export", str(tiny_model_dir), "--format", "onnx", "--out", str(tmp_path / "x")])
    assert run.exit_code == 2 and "unknown export format 'onnx'" in run.output


def test_exporting_a_lora_adapter_merges_it(tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from assay.train.export import export_safetensors

    adapter = tmp_path / "adapter"
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft_model.save_pretrained(adapter)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(adapter)

    result = export_safetensors(str(adapter), tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(result.path).eval()
    with_adapter = AutoModelForCausalLM.from_pretrained(adapter).eval()
    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    assert not (result.path / "adapter_config.json").exists()
    ids = torch.tensor([[1, 5, 9, 30, 40]])
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, with_adapter(ids).logits, atol=1e-5)
        assert not torch.allclose(merged(ids).logits, plain(ids).logits, atol=1e-4)


def _one_line_error(run: Any, *expected: str) -> None:
    """QA got tracebacks here; the CLI must say one ``error:`` line and exit 2 (an uncaught exception exits 1)."""
    assert run.exit_code == 2, run.output
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.output
    for text in expected:
        assert text in lines[0], lines[0]


@pytest.mark.parametrize("fmt", ["gguf", "safetensors"])
def test_exporting_a_folder_that_is_not_a_model_is_one_line(fmt: str, tmp_path: Path) -> None:
    notatok = tmp_path / "notatok"
    notatok.mkdir()
    (notatok / "readme.txt").write_text("hi")
    run = CliRunner().invoke(_app(), ["export", str(notatok), "--format", fmt, "--out", str(tmp_path / "x.gguf")])
    _one_line_error(run, f"cannot export {notatok}: it is not a model folder or Hugging Face model id")


def test_gguf_out_that_is_a_folder_is_refused_before_loading(tiny_model_dir: Path, tmp_path: Path) -> None:
    existing = tmp_path / "existing_folder"
    existing.mkdir()
    run = CliRunner().invoke(_app(), ["export", str(tiny_model_dir), "--format", "gguf", "--out", str(existing)])
    _one_line_error(run, f"--out {existing} is a folder; GGUF export writes one file")
    (tmp_path / "weights.safetensors").write_text("")
    run = CliRunner().invoke(_app(), ["export", str(tiny_model_dir), "--format", "safetensors",
                                      "--out", str(tmp_path / "weights.safetensors")])
    _one_line_error(run, "is a file; safetensors export writes a model folder")


def test_export_reads_the_fim_ids_for_the_spec_a_lora_output_records(tmp_path: Path) -> None:
    """An adapter assay trained says its spec in assay_lora.json; its name ("lora1") matches none, and the old
    fallback (assay-nano's ``<fim_prefix>``) is not in this Qwen-style vocabulary."""
    import json

    import gguf

    from assay.train.lora import LoraOptions, train_lora
    from tests.support.tiny_model import build_tiny_model

    base = build_tiny_model(tmp_path / "base", special_tokens=["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>",
                                                                "<|fim_suffix|>", "<|fim_pad|>", "<|file_sep|>"])
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": "def add(a, b):\n    return a + b\n"}) + "\n" for _ in range(20)))
    out = tmp_path / "lora1"
    train_lora(LoraOptions(base=str(base), data=data, out=out, spec="qwen2.5-coder", steps=1, seq_len=16,
                           batch_size=2))
    run = CliRunner().invoke(_app(), ["export", str(out), "--format", "gguf", "--out", str(tmp_path / "l.gguf")])
    assert run.exit_code == 0, run.output
    fields = {k: f.contents() for k, f in gguf.GGUFReader(tmp_path / "l.gguf").fields.items()}
    assert fields["tokenizer.ggml.fim_pre_token_id"] == fields["tokenizer.ggml.tokens"].index("<|fim_prefix|>")
    assert fields["tokenizer.ggml.fim_sep_token_id"] == fields["tokenizer.ggml.tokens"].index("<|file_sep|>")
