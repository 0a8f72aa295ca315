"""Export a trained model (``assay export MODEL_DIR --format gguf|safetensors --out PATH``).

Input: a transformers model directory (or Hugging Face id), or a peft adapter folder from
``assay train lora`` (the adapter is merged into its base first).

- ``safetensors``: a clean transformers directory (weights in ``model.safetensors``, config,
  tokenizer), optionally cast to float16 / bfloat16.
- ``gguf``: one llama.cpp file, written with the ``gguf`` package: architecture ``llama`` (Llama
  and Mistral-style checkpoints), f32 or f16 matrices (norms stay f32), the tokenizer as a
  ``gpt2``-style byte-level BPE (tokens, token types, merges, bos/eos/pad ids) and, when the model
  spec declares them (``--spec``, else the spec recorded in the model's folder, else a name match),
  llama.cpp's FIM token ids. Query/key projections are permuted to llama.cpp's
  rotary layout, as llama.cpp's own converter does.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from assay.errors import ConfigError
from assay.specs.registry import get_spec, infer_spec
from assay.train.files import share_like_siblings

ExportFormat = Literal["gguf", "safetensors"]
GgufType = Literal["f32", "f16"]
_GGUF_ARCHES = {"llama", "mistral"}


@dataclass(frozen=True)
class ExportResult:
    format: ExportFormat
    path: Path
    bytes: int
    tensors: int
    dtype: str


def load_for_export(model: str) -> tuple[Any, Any]:
    """``(model, tokenizer)`` in float32 on CPU; a peft adapter folder is merged into its base."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(model)
    try:
        if (path / "adapter_config.json").is_file():
            from peft import AutoPeftModelForCausalLM

            merged = AutoPeftModelForCausalLM.from_pretrained(str(path), dtype="float32").merge_and_unload()
            return merged.eval(), AutoTokenizer.from_pretrained(str(path))
        return (AutoModelForCausalLM.from_pretrained(model, dtype="float32").eval(),
                AutoTokenizer.from_pretrained(model))
    except (OSError, ValueError) as exc:  # ValueError: "Unrecognized model", a folder with no usable tokenizer
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConfigError(f"cannot export {model}: it is not a model folder or Hugging Face model id: {first}") from None


def export_safetensors(model: str, out: Path, dtype: Literal["float32", "float16", "bfloat16"] = "float32") -> ExportResult:
    import torch

    loaded, tokenizer = load_for_export(model)
    loaded = loaded.to(getattr(torch, dtype))
    out.mkdir(parents=True, exist_ok=True)
    loaded.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    share_like_siblings(out)
    files = list(out.glob("*.safetensors"))
    size = sum(f.stat().st_size for f in files)
    return ExportResult("safetensors", out, size, len(loaded.state_dict()), dtype)


def _permute(weights: Any, n_head: int) -> Any:
    """HF's rotary layout (halves) → llama.cpp's (interleaved pairs), per head."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def _rope_theta(config: Any) -> float:
    params = getattr(config, "rope_parameters", None) or {}
    theta = params.get("rope_theta") if isinstance(params, dict) else None
    return float(theta or getattr(config, "rope_theta", None) or 10000.0)


def _tokenizer_pre(tokenizer_json: dict[str, Any]) -> str:
    pre = tokenizer_json.get("pre_tokenizer") or {}
    model = tokenizer_json.get("model") or {}
    if model.get("type") != "BPE":
        raise ConfigError(f"GGUF export supports byte-level BPE tokenizers; this one is {model.get('type')}")
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        return "gpt-2"
    raise ConfigError(f"GGUF export supports the GPT-2 byte-level pre-tokenizer; this one is {pre.get('type')}")


def _vocab(tokenizer: Any, n_vocab: int) -> tuple[list[str], list[int]]:
    import gguf

    by_id = {i: t for t, i in tokenizer.get_vocab().items()}
    added = tokenizer.added_tokens_decoder
    tokens: list[str] = []
    types: list[int] = []
    for i in range(n_vocab):
        if i not in by_id:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.NORMAL)
    return tokens, types


def _fim_ids(model: str, spec: str | None, vocab: dict[str, int]) -> dict[str, int]:
    import gguf

    found = get_spec(spec) if spec else infer_spec(model) or get_spec("assay-nano")
    keys = gguf.Keys.Tokenizer
    wanted = {keys.FIM_PRE_ID: found.fim.prefix, keys.FIM_SUF_ID: found.fim.suffix, keys.FIM_MID_ID: found.fim.middle,
              keys.FIM_PAD_ID: "<fim_pad>", keys.FIM_REP_ID: found.repo.repo_name, keys.FIM_SEP_ID: found.repo.file_sep}
    return {key: vocab[tok] for key, tok in wanted.items() if tok and tok in vocab}


def export_gguf(model: str, out: Path, dtype: GgufType = "f16", spec: str | None = None) -> ExportResult:
    """Write ``model`` as one llama-architecture GGUF file at ``out``."""
    import gguf
    import numpy as np

    loaded, tokenizer = load_for_export(model)
    config = loaded.config
    if config.model_type not in _GGUF_ARCHES:
        raise ConfigError(f"GGUF export supports Llama-architecture models; {model} is '{config.model_type}'")
    n_head, n_kv = config.num_attention_heads, config.num_key_value_heads or config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // n_head
    n_vocab = config.vocab_size

    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    writer.add_name(Path(model).name or model)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_kv)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_freq_base(_rope_theta(config))
    writer.add_rope_dimension_count(head_dim)
    if head_dim != config.hidden_size // n_head:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32 if dtype == "f32" else gguf.LlamaFileType.MOSTLY_F16)

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        tokenizer_json = json.loads((Path(tmp) / "tokenizer.json").read_text(encoding="utf-8"))
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre(_tokenizer_pre(tokenizer_json))
        tokens, types = _vocab(tokenizer, n_vocab)
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        special = gguf.SpecialVocab(tmp, load_merges=True, n_vocab=n_vocab)
        if "bos" not in special.add_special_token:
            with_specials = tokenizer("a", add_special_tokens=True)["input_ids"]
            without = tokenizer("a", add_special_tokens=False)["input_ids"]
            special.add_special_token["bos"] = len(with_specials) > len(without)
        special.add_to_gguf(writer, quiet=True)
    for key, token_id in _fim_ids(model, spec, tokenizer.get_vocab()).items():
        writer.add_uint32(key, token_id)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    count = 0
    for hf_name, tensor in loaded.state_dict().items():
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue
        if hf_name == "lm_head.weight" and config.tie_word_embeddings:
            continue
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ConfigError(f"GGUF export does not know where tensor '{hf_name}' goes")
        data = tensor.detach().to("cpu").float().numpy()
        if hf_name.endswith("q_proj.weight"):
            data = _permute(data, n_head)
        elif hf_name.endswith("k_proj.weight"):
            data = _permute(data, n_kv)
        if dtype == "f16" and data.ndim == 2:
            data = data.astype(np.float16)
        writer.add_tensor(name, np.ascontiguousarray(data))
        count += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return ExportResult("gguf", out, out.stat().st_size, count, dtype)


def export_model(model: str, fmt: ExportFormat, out: Path, *, dtype: str | None = None,
                 spec: str | None = None) -> ExportResult:
    """Dispatch on ``fmt``; ``dtype`` is ``f32``/``f16`` for GGUF and ``float32``/``float16``/``bfloat16`` for safetensors.

    ``out`` is checked before the model is loaded, so a wrong path fails at once with one line."""
    if fmt == "gguf":
        if dtype not in (None, "f32", "f16"):
            raise ConfigError(f"GGUF export writes f32 or f16 tensors, not '{dtype}'")
        if out.is_dir():
            raise ConfigError(f"--out {out} is a folder; GGUF export writes one file, e.g. {out / 'model.gguf'}")
        return export_gguf(model, out, dtype or "f16", spec)  # type: ignore[arg-type]
    if fmt == "safetensors":
        if dtype not in (None, "float32", "float16", "bfloat16"):
            raise ConfigError(f"safetensors export casts to float32, float16 or bfloat16, not '{dtype}'")
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out} is a file; safetensors export writes a model folder")
        return export_safetensors(model, out, dtype or "float32")  # type: ignore[arg-type]
    raise ConfigError(f"unknown export format '{fmt}'; use gguf or safetensors")
