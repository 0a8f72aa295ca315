"""GGUF parity: the exported file loads in llama.cpp (llama-cpp-python) and gives the transformers model's
greedy tokens for fixed prompts. Real llama.cpp, real tiny model; nothing mocked.

Skipped only when ``llama_cpp`` is not importable (CI installs it from the project's wheel).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.train.export import export_gguf

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install --find-links wheels llama-cpp-python)")

PROMPTS = [
    "def hello_world():\n",
    "class Greeter:\n    def __init__(self, name):\n",
    "function add(a, b) {\n  return",
    "<fim_prefix>import os\n<fim_suffix>\n<fim_middle>",
]
NEW_TOKENS = 8


@pytest.fixture(scope="module")
def sharp_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small grouped-query-attention Llama (8 heads, 4 KV heads, like assay-nano) on the tiny model's
    tokenizer, with matrices drawn at std 0.3: decisive logits (spread ~10), so a wrong tensor layout shows
    up as errors of whole units rather than hiding below float tolerance."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("sharp-model")
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.save_pretrained(out)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=256,
                         tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id,
                         bos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            if param.ndim == 2:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.3)
    model.save_pretrained(out)
    return out


def _hf_greedy(model: object, ids: list[int], n: int) -> tuple[list[int], list[float]]:
    import torch

    tokens = list(ids)
    with torch.no_grad():
        first_logits = model(torch.tensor([tokens])).logits[0, -1].tolist()  # type: ignore[operator]
        for _ in range(n):
            logits = model(torch.tensor([tokens])).logits[0, -1]  # type: ignore[operator]
            tokens.append(int(logits.argmax()))
    return tokens[len(ids):], first_logits


@pytest.mark.slow
def test_gguf_greedy_tokens_match_transformers(sharp_model_dir: Path, tmp_path: Path) -> None:
    import numpy as np
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = tmp_path / "tiny-f32.gguf"
    export_gguf(str(sharp_model_dir), path, "f32", spec="assay-nano")
    tokenizer = AutoTokenizer.from_pretrained(sharp_model_dir)
    model = AutoModelForCausalLM.from_pretrained(sharp_model_dir, dtype="float32").eval()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=2, logits_all=True, verbose=False, seed=0)
    assert llm.n_vocab() == model.config.vocab_size

    for prompt in PROMPTS:
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        assert llm.tokenize(prompt.encode(), add_bos=False, special=True) == ids, prompt
        expected, hf_logits = _hf_greedy(model, ids, NEW_TOKENS)

        llm.reset()
        llm.eval(ids)
        assert np.abs(np.asarray(llm.scores[len(ids) - 1]) - np.asarray(hf_logits)).max() < 2e-2, prompt

        llm.reset()
        got: list[int] = []
        for token in llm.generate(ids, temp=0.0, top_k=1, top_p=1.0, repeat_penalty=1.0, reset=True):
            got.append(token)
            if len(got) == NEW_TOKENS:
                break
        assert got == expected, prompt


@pytest.mark.slow
def test_f16_gguf_loads_and_stays_close(sharp_model_dir: Path, tmp_path: Path) -> None:
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM

    path = tmp_path / "tiny-f16.gguf"
    export_gguf(str(sharp_model_dir), path, "f16")
    model = AutoModelForCausalLM.from_pretrained(sharp_model_dir, dtype="float32").eval()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=128, n_threads=2, logits_all=True, verbose=False)
    ids = [5, 17, 40, 63, 101]
    llm.eval(ids)
    with torch.no_grad():
        expected = model(torch.tensor([ids])).logits[0, -1].numpy()
    assert np.abs(np.asarray(llm.scores[len(ids) - 1]) - expected).max() < 0.25
