"""assay's training kit: stands on its own (imports only assay.types/errors/languages/specs) and hands
the gateway a model directory that transformers loads.

- ``fim``: FIM transforms (PSM/SPM, character-level and tree-sitter spans) with a spec's sentinels
- ``tokenizer``: byte-level BPE with the spec's special tokens (``assay train tokenizer``)
- ``model``, ``data``, ``checkpoint``, ``pretrain``: a small Llama trained from scratch, resumable
  after a kill (``assay train pretrain``)
- ``nano``, ``nano_corpus``, ``nano_card``: the assay-nano recipe and its model card (``assay train nano``)
- ``corpus``, ``lora``, ``export``: corpus building, LoRA fine-tuning, GGUF/safetensors export

Modules import torch/transformers inside functions, so importing them is cheap.
"""
