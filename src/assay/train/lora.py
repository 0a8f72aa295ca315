"""LoRA fine-tuning (``assay train lora``) of any Hugging Face causal LM on a user's code.

Data is a corpus from ``assay data build`` (its ``train`` shards; ``validation`` shards, when there
are any, give a before/after validation loss) or any JSONL file with a ``text`` field. Documents are
FIM-transformed with ``assay.train.fim`` when the model's spec declares FIM tokens that the
tokenizer knows as single tokens, and used as plain causal-LM text otherwise; then tokenized,
joined with eos and packed into ``seq_len`` windows.

The result loads with ``transformers.AutoModelForCausalLM.from_pretrained(out)``, so ``assay serve``
can serve it:

- by default ``out`` is a peft adapter folder (``adapter_config.json`` naming the base model, plus the
  tokenizer); transformers loads the base and applies the adapter (peft must be installed);
- with ``merge=True`` ``out`` is a full model with the adapter merged in, and the adapter itself is
  kept in ``out/adapter``.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assay.errors import ConfigError
from assay.specs.registry import LORA_RECORD, get_spec, infer_spec
from assay.specs.schema import ModelSpec
from assay.train.files import share_like_siblings
from assay.train.model import count_parameters
from assay.train.precision import Placement, resolve_placement


@dataclass(frozen=True)
class LoraOptions:
    base: str
    """A Hugging Face model id or a local model directory."""
    data: Path
    """A corpus folder from ``assay data build`` or a JSONL file with a ``text`` field per line."""
    out: Path
    spec: str | None = None
    """Model-spec family for the FIM tokens; when None, what assay recorded in a local ``base`` folder, else matched
    from ``base`` (``assay.specs.registry.infer_spec``)."""
    fim_rate: float = 0.5
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ()
    """Module names to adapt; peft's default for the architecture (else every linear layer) when empty."""
    steps: int = 200
    batch_size: int = 4
    seq_len: int = 512
    lr: float = 2e-4
    warmup_steps: int = 10
    merge: bool = False
    seed: int = 0
    device: str = "auto"
    """``auto`` picks CUDA when available, else CPU."""
    precision: str = "auto"
    """``auto``, ``fp32`` or ``bf16`` (see ``assay.train.precision``): under bf16 the base weights are loaded
    in bfloat16 and the forward pass autocasts; the adapter and its optimizer state stay float32."""
    eval_batches: int = 4

    def __post_init__(self) -> None:
        for name in ("rank", "alpha", "steps", "batch_size", "seq_len"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"lora {name} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.fim_rate <= 1.0:
            raise ConfigError(f"lora fim_rate must be between 0 and 1, got {self.fim_rate}")
        if self.lr <= 0:
            raise ConfigError(f"lora lr must be positive, got {self.lr}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"lora dropout must be at least 0 and below 1, got {self.dropout}")


@dataclass(frozen=True)
class LoraResult:
    out: Path
    """What to serve: the adapter folder, or the merged model folder."""
    adapter_dir: Path
    merged: bool
    losses: tuple[float, ...]
    """Training loss of every step."""
    fim: bool
    """Whether documents were FIM-transformed (False: plain causal-LM text)."""
    trainable_parameters: int
    train_tokens: int
    val_loss_before: float | None = None
    val_loss_after: float | None = None
    device: str = "cpu"
    precision: str = "fp32"
    precision_reason: str = ""
    """Why that precision (``auto``'s rule, or the option that forced it)."""


StepHook = Callable[[int, float], None]
"""Called as ``hook(step, loss)`` after each optimisation step."""


def _base_spec(options: LoraOptions) -> ModelSpec | None:
    """The spec trained with: ``options.spec``, else what assay recorded in the base's folder, else a name match."""
    return get_spec(options.spec) if options.spec else infer_spec(options.base)


def _fim_tokens(options: LoraOptions, tokenizer: Any) -> Any | None:
    """The FIM sentinels when the spec has them and the tokenizer holds each as one token; else None."""
    from assay.train.fim import FimTokens

    spec = _base_spec(options)
    if spec is None or options.fim_rate == 0.0:
        return None
    try:
        tokens = FimTokens.from_spec(spec.family)
    except ConfigError:
        return None
    vocab = tokenizer.get_vocab()
    if not all(t in vocab for t in (tokens.prefix, tokens.suffix, tokens.middle, tokens.eos)):
        if options.spec:
            raise ConfigError(f"the tokenizer of {options.base} lacks the FIM tokens of spec '{options.spec}'")
        return None
    return tokens


def _documents(options: LoraOptions, split: str, tokenizer: Any, fim_tokens: Any | None,
               rng: random.Random) -> Iterator[str]:
    from assay.train.corpus.shards import iter_records
    from assay.train.fim import FimConfig, apply_fim

    config = FimConfig(rate=options.fim_rate)
    eos = tokenizer.eos_token or ""
    for record in iter_records(options.data, split):  # type: ignore[arg-type]
        if not record.text:
            continue
        if fim_tokens is not None:
            yield apply_fim(record.text, rng, fim_tokens, config, record.language or None).text
        else:
            yield record.text + eos


def pack_tokens(texts: Iterator[str], tokenizer: Any, seq_len: int, max_windows: int | None) -> list[list[int]]:
    """Tokenize and concatenate ``texts``, cut into windows of ``seq_len`` tokens (the last partial one dropped)."""
    windows: list[list[int]] = []
    buffer: list[int] = []
    for text in texts:
        buffer.extend(tokenizer(text, add_special_tokens=False)["input_ids"])
        while len(buffer) >= seq_len:
            windows.append(buffer[:seq_len])
            buffer = buffer[seq_len:]
            if max_windows is not None and len(windows) >= max_windows:
                return windows
    return windows


def _not_a_model(base: str, reason: str | Exception) -> ConfigError:
    """What transformers raises for a folder without a model or tokenizer, or an unknown id (OSError or
    ValueError, many lines long), as one line."""
    text = str(reason)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(reason).__name__)
    return ConfigError(f"{base} is not a model folder or Hugging Face model id: {first}")


def _load_base(base: str, dtype: str) -> Any:
    from transformers import AutoModelForCausalLM

    try:
        return AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise _not_a_model(base, exc) from None


def _base_parameters(base: str) -> int | None:
    """The base model's parameter count, from its config built on the meta device (nothing loaded); None when the
    config cannot be read (``_load_base`` then reports why)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(base)
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
    except (OSError, ValueError):
        return None
    return count_parameters(model)


def _load_tokenizer(base: str) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(base)
    except OSError as exc:
        raise _not_a_model(base, exc) from None
    except ValueError:  # "Couldn't instantiate the backend tokenizer ... sentencepiece or tiktoken"
        raise _not_a_model(base, "it holds no tokenizer transformers can load (tokenizer.json)") from None


def _merged(model: Any, options: LoraOptions, adapter_dir: Path, placement: Placement) -> Any:
    """The base with the adapter merged in. After bf16 training the adapter is merged into the base's stored
    weights (reloaded on the CPU), not into the bf16 copy that training used, so no precision is lost."""
    if placement.precision == "fp32":
        return model.merge_and_unload()
    from peft import PeftModel

    return PeftModel.from_pretrained(_load_base(options.base, "auto"), adapter_dir).merge_and_unload()


def _peft_model(model: Any, options: LoraOptions) -> Any:
    from peft import LoraConfig, get_peft_model

    def config(targets: Any) -> Any:
        return LoraConfig(r=options.rank, lora_alpha=options.alpha, lora_dropout=options.dropout,
                          target_modules=targets, task_type="CAUSAL_LM")

    if options.target_modules:
        try:
            return get_peft_model(model, config(list(options.target_modules)))
        except ValueError as exc:  # peft's NoMatchingPeftModuleError among others
            raise ConfigError(f"lora --target {', '.join(options.target_modules)}: {str(exc).splitlines()[0]} "
                              f"(linear modules of {options.base}: {', '.join(_linear_names(model))})") from None
    try:
        return get_peft_model(model, config(None))
    except ValueError:
        return get_peft_model(model, config("all-linear"))


def _linear_names(model: Any) -> list[str]:
    """The distinct last names of the model's linear layers: what ``--target`` may name."""
    import torch

    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, torch.nn.Linear) and name})


def _loss(model: Any, batch: Any, placement: Placement) -> Any:
    with placement.autocast():
        return model(input_ids=batch, labels=batch).loss


def _eval_loss(model: Any, windows: list[list[int]], options: LoraOptions, placement: Placement) -> float | None:
    import torch

    if not windows:
        return None
    model.eval()
    losses = []
    with torch.no_grad():
        for i in range(0, len(windows), options.batch_size):
            batch = torch.tensor(windows[i:i + options.batch_size], device=placement.device)
            losses.append(float(_loss(model, batch, placement)))
    model.train()
    return sum(losses) / len(losses)


def train_lora(options: LoraOptions, on_step: StepHook | None = None) -> LoraResult:
    """Fine-tune ``options.base`` with LoRA on ``options.data`` and save to ``options.out`` (see module docstring)."""
    import torch

    if not options.data.exists():
        raise ConfigError(f"training data {options.data} does not exist")
    torch.manual_seed(options.seed)
    rng = random.Random(options.seed)
    placement = resolve_placement(options.device, options.precision, parameters=_base_parameters(options.base))
    device = placement.device
    model = _load_base(options.base, "bfloat16" if placement.precision == "bf16" else "float32").to(device)
    tokenizer = _load_tokenizer(options.base)
    fim_tokens = _fim_tokens(options, tokenizer)

    needed = options.steps * options.batch_size
    train = pack_tokens(_documents(options, "train", tokenizer, fim_tokens, rng), tokenizer, options.seq_len, needed)
    if not train:
        raise ConfigError(f"{options.data} holds fewer than seq_len={options.seq_len} tokens of training text")
    val: list[list[int]] = []
    if options.data.is_dir():
        val = pack_tokens(_documents(options, "validation", tokenizer, fim_tokens, random.Random(options.seed + 1)),
                          tokenizer, options.seq_len, options.eval_batches * options.batch_size)

    model = _peft_model(model, options)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    val_before = _eval_loss(model, val, options, placement)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=options.lr,
                                  weight_decay=0.0)

    def lr_at(step: int) -> float:
        if step < options.warmup_steps:
            return (step + 1) / options.warmup_steps
        progress = (step - options.warmup_steps) / max(1, options.steps - options.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    order: list[int] = []
    losses: list[float] = []
    model.train()
    for step in range(options.steps):
        if len(order) < options.batch_size:
            fresh = list(range(len(train)))
            rng.shuffle(fresh)
            order.extend(fresh * max(1, math.ceil(options.batch_size / len(fresh))))
        idx, order = order[:options.batch_size], order[options.batch_size:]
        batch = torch.tensor([train[i] for i in idx], device=device)
        loss = _loss(model, batch, placement)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if on_step is not None:
            on_step(step + 1, losses[-1])
    val_after = _eval_loss(model, val, options, placement)

    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    adapter_dir = out / "adapter" if options.merge else out
    model.save_pretrained(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)
    share_like_siblings(adapter_dir)
    _point_adapter_at_base(adapter_dir, options.base)
    if options.merge:
        merged = _merged(model, options, adapter_dir, placement)
        merged.save_pretrained(out, safe_serialization=True)
        tokenizer.save_pretrained(out)
        share_like_siblings(out)
    result = LoraResult(out=out, adapter_dir=adapter_dir, merged=options.merge, losses=tuple(losses),
                        fim=fim_tokens is not None, trainable_parameters=trainable,
                        train_tokens=len(train) * options.seq_len, val_loss_before=val_before,
                        val_loss_after=val_after, device=device, precision=placement.precision,
                        precision_reason=placement.reason)
    info = asdict(result) | {"options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}}
    info["out"], info["adapter_dir"] = str(out), str(adapter_dir)
    info["spec"] = s.family if (s := _base_spec(options)) is not None else None
    (out / LORA_RECORD).write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")
    return result


def _point_adapter_at_base(adapter_dir: Path, base: str) -> None:
    """Record a local base model by its absolute path, so the adapter loads from any working directory."""
    if not Path(base).is_dir():
        return
    config_path = adapter_dir / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = str(Path(base).resolve())
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
