"""The model: a standard transformers Llama, so it loads anywhere transformers or llama.cpp does."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from assay.errors import ConfigError


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a small decoder-only Llama. Defaults are assay-nano's shape."""

    vocab_size: int = 8192
    """Filled in from the tokenizer; 8k keeps the embedding (the largest matrix at this size) small."""
    hidden_size: int = 256
    """Width: 256 is the smallest that still learns code syntax well in an hour of CPU time."""
    num_layers: int = 4
    """Depth: 4 layers keep a 48-token completion far under a second on two CPU cores."""
    num_heads: int = 8
    """Head dim 32: enough heads for the many short-range patterns in code."""
    num_kv_heads: int = 4
    """Grouped-query attention halves the KV cache at no measurable loss at this scale."""
    intermediate_size: int = 688
    """~2.7x hidden, the SwiGLU ratio Llama uses (rounded to a multiple of 16)."""
    context_length: int = 1024
    """Position budget (RoPE); the assay-nano spec's context_length."""
    rope_theta: float = 10000.0
    """Llama's default; long contexts are not the goal here."""
    tie_embeddings: bool = True
    """Input and output embeddings shared: saves vocab x hidden parameters, which matter at this size."""

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ConfigError(f"hidden_size {self.hidden_size} must be divisible by num_heads {self.num_heads}")
        if self.num_heads % self.num_kv_heads:
            raise ConfigError(f"num_heads {self.num_heads} must be divisible by num_kv_heads {self.num_kv_heads}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def llama_config(self, *, eos_token_id: int, pad_token_id: int | None = None) -> Any:
        from transformers import LlamaConfig

        return LlamaConfig(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_heads,
            num_key_value_heads=self.num_kv_heads,
            max_position_embeddings=self.context_length,
            rope_theta=self.rope_theta,
            tie_word_embeddings=self.tie_embeddings,
            bos_token_id=eos_token_id,
            eos_token_id=eos_token_id,
            pad_token_id=pad_token_id,
            attention_dropout=0.0,
        )


def build_model(config: ModelConfig, *, eos_token_id: int, pad_token_id: int | None = None, seed: int = 0) -> Any:
    """A freshly initialised ``LlamaForCausalLM`` (fp32), seeded for reproducibility."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(config.llama_config(eos_token_id=eos_token_id, pad_token_id=pad_token_id))


def planned_parameters(config: ModelConfig) -> int:
    """The parameter count ``build_model(config)`` will have, from a model built on the meta device (no memory)."""
    import torch

    with torch.device("meta"):
        return count_parameters(build_model(config, eos_token_id=0))


def count_parameters(model: Any) -> int:
    """Unique parameters (tied embeddings counted once)."""
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return total
