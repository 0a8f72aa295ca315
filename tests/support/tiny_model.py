"""Build a tiny, randomly initialised Llama with a real BPE tokenizer, for tests.

The weights are random, so its text is gibberish, but everything else is real: a transformers
model directory that ``AutoModelForCausalLM`` / ``AutoTokenizer`` load, with the FIM and
file-separator special tokens of the assay-nano spec.
"""

from __future__ import annotations

import json
from pathlib import Path

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<fim_prefix>",
    "<fim_middle>",
    "<fim_suffix>",
    "<fim_pad>",
    "<repo_name>",
    "<file_sep>",
]

_CORPUS = [
    "def hello_world():\n    print('hello world')\n    return 0\n",
    "class Greeter:\n    def __init__(self, name):\n        self.name = name\n",
    "function add(a, b) {\n  return a + b;\n}\n",
    "func main() {\n\tfmt.Println(\"hi\")\n}\n",
    "fn main() {\n    println!(\"hi\");\n}\n",
    "for i in range(10):\n    if i % 2 == 0:\n        continue\n",
    "import os\nimport sys\n\nx = [1, 2, 3]\n",
    "public static void main(String[] args) { System.out.println(1); }\n",
]


def build_tiny_model(out: Path, *, vocab_size: int = 512, hidden: int = 32, layers: int = 2, seed: int = 0,
                     special_tokens: list[str] | None = None) -> Path:
    """Write a tiny model directory to ``out`` and return it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    specials = special_tokens if special_tokens is not None else SPECIAL_TOKENS
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_CORPUS * 20, trainer=trainer)
    eos = specials[0] if specials else None
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, bos_token=eos, unk_token=None,
                                   additional_special_tokens=specials[1:])
    fast.save_pretrained(out)

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=4,
                         max_position_embeddings=1024, tie_word_embeddings=True,
                         bos_token_id=fast.convert_tokens_to_ids(eos) if eos else None,
                         eos_token_id=fast.convert_tokens_to_ids(eos) if eos else None)
    model = LlamaForCausalLM(config)
    model.save_pretrained(out, safe_serialization=True)
    (out / "assay_test_model.json").write_text(json.dumps({"random_weights": True, "seed": seed}))
    return out
