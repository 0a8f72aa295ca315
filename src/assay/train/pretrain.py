"""``assay train pretrain``: train a small Llama from scratch, as one plain loop (nanoGPT in spirit).

Contract: ``pretrain(config)`` trains for ``config.max_steps`` optimizer steps (or until
``max_minutes``), logs every step group to ``OUT/metrics.jsonl``, checkpoints to ``OUT/checkpoint/``
and, at the end, writes ``OUT/model/`` (safetensors + config + tokenizer + ``training.json``), which
``transformers.AutoModelForCausalLM`` and ``AutoTokenizer`` load. Started again with the same config
and output directory, it resumes from the checkpoint and reproduces the uninterrupted run's losses.

The first SIGINT (Ctrl-C) or SIGTERM asks the run to stop: it finishes the optimizer step in flight,
checkpoints, exports ``OUT/model/`` as a ``max_minutes`` stop does and returns with ``stop_reason`` set,
so rerunning resumes with nothing finished lost. A second signal aborts at once (the OS default).
"""

from __future__ import annotations

import json
import math
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

from assay.errors import ConfigError
from assay.train.checkpoint import TrainState, load_checkpoint, restore, save_checkpoint
from assay.train.data import Document, build_stream, read_documents, rows, split_documents
from assay.train.files import share_like_siblings
from assay.train.fim import FimConfig, FimTokens
from assay.train.model import ModelConfig, build_model, count_parameters, planned_parameters
from assay.train.precision import Placement, check_precision, resolve_placement
from assay.train.tokenizer import load_tokenizer

RUNTIME_FIELDS = frozenset({"device", "precision", "threads", "max_minutes", "progress"})
"""Config fields a resumed run may change; every other field must match the checkpoint's."""


@dataclass(frozen=True)
class PretrainConfig:
    """Everything a run depends on; the resolved copy is saved with each checkpoint and the model."""

    data: tuple[str, ...]
    """JSONL corpora, source files or folders (see ``assay.train.data``)."""
    tokenizer: str
    """A tokenizer folder with the family's special tokens (``assay train tokenizer``)."""
    out_dir: str
    """Run folder: ``checkpoint/``, ``metrics.jsonl``, ``model/``."""
    model: ModelConfig = field(default_factory=ModelConfig)
    family: str = "assay-nano"
    """Model spec whose FIM and eos tokens the data uses."""
    seq_len: int = 512
    """Training window: most completion prompts fit in 512 tokens and attention cost grows with it."""
    batch_size: int = 8
    """Windows per micro-batch: 8 x 512 fp32 activations of a 5M model fit comfortably in CPU caches/RAM."""
    grad_accum: int = 2
    """Micro-batches per optimizer step: 8 x 2 x 512 = 8k tokens a step, a stable size for this model."""
    max_steps: int = 600
    """Optimizer steps; the cosine schedule spans exactly these, so set it to what the budget allows."""
    lr: float = 1e-3
    """Peak learning rate; small models tolerate (and need) a high one (nanoGPT's baby models use 1e-3)."""
    min_lr_ratio: float = 0.1
    """Cosine decays to lr x this (Chinchilla's choice)."""
    warmup_steps: int = 30
    """Linear warmup: ~5% of a short run, enough for Adam's moment estimates to settle."""
    weight_decay: float = 0.1
    """On matrices only (not norms): the GPT-3/Llama setting."""
    beta1: float = 0.9
    """Adam's usual first-moment decay."""
    beta2: float = 0.95
    """0.95 rather than 0.999: steadier with few, large steps (GPT-3, Llama)."""
    grad_clip: float = 1.0
    """Clip the global gradient norm at 1: guards the high learning rate against rare spikes."""
    eval_interval: int = 50
    """Steps between validation losses: about a dozen points on a default run."""
    eval_rows: int = 32
    """Validation windows per evaluation: enough for a steady estimate, cheap enough to run often."""
    checkpoint_interval: int = 50
    """Steps between checkpoints: a kill loses at most a few minutes of CPU training."""
    log_interval: int = 10
    """Steps between ``metrics.jsonl`` lines (step 1 and every validation step are always logged)."""
    val_fraction: float = 0.02
    """Share of documents held out when the corpus has no validation split of its own."""
    fim: FimConfig = field(default_factory=FimConfig)
    chunk_chars: int = 1600
    """Documents are cut into chunks of this many characters (about 450 tokens) so a FIM example fits a window."""
    seed: int = 1337
    """Seeds initialisation, document order, FIM choices and window order: same seed, same run."""
    device: str = "auto"
    """``auto``: CUDA when available, else CPU; or ``cpu``, ``cuda``, ``cuda:N``."""
    precision: str = "auto"
    """``auto`` (bf16 autocast on a bf16-capable GPU, fp32 otherwise), ``fp32`` or ``bf16`` (autocast on any
    device; weights and optimizer state stay fp32). See ``assay.train.precision``."""
    threads: int | None = None
    """torch CPU threads; None leaves torch's default."""
    max_minutes: float | None = None
    """Wall-clock budget; when it runs out the run checkpoints and exports what it has."""
    progress: bool = True
    """Show a rich progress bar on stderr."""
    init_from: str | None = None
    """A model folder to start from instead of random weights (continued pretraining). Its shape must
    match ``model`` and its vocabulary the tokenizer's; optimizer and schedule start fresh."""

    def __post_init__(self) -> None:
        for name in ("seq_len", "batch_size", "grad_accum", "max_steps", "eval_interval", "checkpoint_interval",
                     "log_interval", "eval_rows", "chunk_chars"):
            if getattr(self, name) < 1:
                raise ConfigError(f"pretrain.{name} must be at least 1, got {getattr(self, name)}")
        if self.seq_len > self.model.context_length:
            raise ConfigError(f"seq_len {self.seq_len} exceeds the model's context_length {self.model.context_length}")
        if not self.data:
            raise ConfigError("pretrain needs at least one data path")
        self._check_floats()
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"pretrain.threads must be at least 1 (or unset for torch's default), "
                              f"got {self.threads}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ConfigError(f"pretrain.max_minutes must be greater than 0 (or unset for no limit), "
                              f"got {self.max_minutes}")
        check_precision(self.precision)

    def _check_floats(self) -> None:
        """Reject out-of-range optimizer settings here, as one line, before torch raises a traceback for
        some (a negative lr) and silently trains nonsense with others (a weight decay below 0). Written as
        ``not (in range)`` so NaN is refused too."""
        ranges = {
            "lr": (self.lr > 0, "greater than 0"),
            "min_lr_ratio": (0 <= self.min_lr_ratio <= 1, "in [0, 1]"),
            "weight_decay": (self.weight_decay >= 0, "at least 0"),
            "beta1": (0 <= self.beta1 < 1, "in [0, 1)"),
            "beta2": (0 <= self.beta2 < 1, "in [0, 1)"),
            "grad_clip": (self.grad_clip >= 0, "at least 0 (0 turns clipping off)"),
            "val_fraction": (0 <= self.val_fraction < 1, "in [0, 1)"),
        }
        for name, (ok, allowed) in ranges.items():
            if not ok:
                raise ConfigError(f"pretrain.{name} must be {allowed}, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data"] = list(self.data)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PretrainConfig:
        d = dict(d)
        d["data"] = tuple(d["data"])
        d["model"] = ModelConfig(**d["model"])
        d["fim"] = FimConfig(**d["fim"])
        return cls(**d)


@dataclass(frozen=True)
class StepLog:
    step: int
    loss: float
    lr: float
    tokens: int
    elapsed_s: float
    val_loss: float | None = None


@dataclass(frozen=True)
class PretrainResult:
    model_dir: Path
    steps: int
    tokens_seen: int
    parameters: int
    train_loss: float | None
    val_loss: float | None
    elapsed_s: float
    tokens_per_s: float
    device: str
    """The device this segment of the run computed on (``cpu``, ``cuda``, ``cuda:N``)."""
    precision: str
    """``fp32`` or ``bf16`` (autocast), as resolved from the config for this segment."""
    precision_reason: str
    """Why that precision (``auto``'s rule, or the option that forced it)."""
    resumed_from_step: int | None
    stopped_early: bool
    stop_reason: str | None = None
    """Why the run stopped before ``max_steps``: ``max_minutes``, or the signal that interrupted it
    (``SIGINT``, ``SIGTERM``); None when it trained to the end."""

    @property
    def interrupted(self) -> bool:
        """Stopped by a signal (Ctrl-C, ``kill``), not by the run's own step or time budget."""
        return self.stop_reason in INTERRUPT_SIGNALS


INTERRUPT_SIGNALS = ("SIGINT", "SIGTERM")
"""Signals that stop a run gracefully (after the current step, checkpointed); a second one aborts at once."""


class TrainingInterrupted(Exception):
    """Raised by multi-stage recipes (``assay train nano``) when a pretraining stage was interrupted, so later
    stages do not run on a half-trained model; carries the stage's config and result for the message."""

    def __init__(self, config: PretrainConfig, result: PretrainResult) -> None:
        super().__init__(f"{result.stop_reason} at step {result.steps} of {config.max_steps}")
        self.config, self.result = config, result


class _StopSignals:
    """Context manager: while active, the first SIGINT/SIGTERM records its name in ``received`` instead of
    killing the process, and hands both signals back to the OS default, so a second one aborts at once.
    The previous handlers come back on exit. Python only lets the main thread set handlers; elsewhere
    (a run started from a worker thread) it installs nothing and signals keep their usual effect."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for name in INTERRUPT_SIGNALS:
                signum = getattr(signal, name)
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signal.Signals(signum).name
        for other in self._previous:
            signal.signal(other, signal.SIG_DFL)

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            # None: the handler was not set from Python; the OS default is the closest we can restore.
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)


def lr_factor(step: int, *, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warmup to 1, then cosine decay to ``min_ratio`` at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def read_metrics(out_dir: Path) -> list[StepLog]:
    """The step logs of a run directory, in order."""
    path = Path(out_dir) / "metrics.jsonl"
    if not path.is_file():
        return []
    return [StepLog(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


class _Data:
    """Training windows of the current epoch in a seeded order; rebuilt deterministically per epoch."""

    def __init__(self, docs: list[Document], tokenizer: Any, tokens: FimTokens, config: PretrainConfig) -> None:
        self.docs, self.tokenizer, self.tokens, self.config = docs, tokenizer, tokens, config
        self.epoch = -1

    def load(self, epoch: int) -> None:
        import torch

        c = self.config
        stream = build_stream(self.docs, self.tokenizer, tokens=self.tokens, fim=c.fim, chunk_chars=c.chunk_chars,
                              seed=c.seed, epoch=epoch)
        self.x, self.y = rows(stream, c.seq_len)
        gen = torch.Generator().manual_seed(c.seed * 1_000_003 + epoch)
        self.order = torch.randperm(self.x.shape[0], generator=gen)
        self.epoch = epoch

    def batch(self, state: TrainState) -> tuple[Any, Any]:
        """The next micro-batch; advances ``state.epoch``/``state.cursor``."""
        if self.epoch != state.epoch:
            self.load(state.epoch)
        size = min(self.config.batch_size, len(self.order))
        if state.cursor + size > len(self.order):
            state.epoch, state.cursor = state.epoch + 1, 0
            self.load(state.epoch)
        idx = self.order[state.cursor : state.cursor + size]
        state.cursor += size
        return self.x[idx], self.y[idx]


def _check_tokenizer(tokenizer: Any, tokens: FimTokens) -> tuple[int, int | None]:
    for tok in (tokens.prefix, tokens.suffix, tokens.middle, tokens.eos):
        ids = tokenizer.encode(tok, add_special_tokens=False)
        if len(ids) != 1:
            raise ConfigError(f"tokenizer does not have '{tok}' as a single special token; train it with "
                              "`assay train tokenizer` for this model family")
    return tokenizer.convert_tokens_to_ids(tokens.eos), tokenizer.pad_token_id


def _optimizer(model: Any, config: PretrainConfig) -> Any:
    import torch

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2))


def _check_resumable(saved: dict[str, Any], current: dict[str, Any], where: Path) -> None:
    for key in sorted(set(saved) | set(current)):
        if key not in RUNTIME_FIELDS and saved.get(key) != current.get(key):
            raise ConfigError(f"cannot resume from {where}: '{key}' differs from the checkpoint's "
                              f"({saved.get(key)!r} != {current.get(key)!r}); use a new --out directory")


def evaluate(model: Any, x: Any, y: Any, *, batch_size: int, placement: Placement) -> float:
    """Mean next-token cross-entropy of ``model`` over windows ``x`` -> ``y``."""
    import torch
    import torch.nn.functional as F

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), placement.autocast():
        for i in range(0, x.shape[0], batch_size):
            xb, yb = x[i : i + batch_size].to(placement.device), y[i : i + batch_size].to(placement.device)
            logits = model(input_ids=xb).logits
            total += F.cross_entropy(logits.float().flatten(0, 1), yb.flatten(), reduction="sum").item()
            count += yb.numel()
    model.train()
    return total / max(1, count)


def _load_initial_weights(model: Any, folder: Path) -> None:
    """Copy the weights of a saved model of the same shape into ``model`` (strict: every tensor must match)."""
    from safetensors.torch import load_file

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise ConfigError(f"init_from: no *.safetensors weights in {folder}")
    state: dict[str, Any] = {}
    for f in files:
        state.update(load_file(str(f)))
    own = model.state_dict()
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
        own.pop("lm_head.weight", None)
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or unexpected:
        raise ConfigError(f"init_from: {folder} does not fit the model: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(own[name].shape):
            raise ConfigError(f"init_from: {name} has shape {tuple(tensor.shape)} in {folder}, "
                              f"the model needs {tuple(own[name].shape)}")
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)


def pretrain(config: PretrainConfig, *, on_log: Callable[[StepLog], None] | None = None) -> PretrainResult:
    """Train (or resume) the run described by ``config``; see the module docstring for what it writes."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer(Path(config.tokenizer))
    fim_tokens = FimTokens.from_spec(config.family)
    eos_id, pad_id = _check_tokenizer(tokenizer, fim_tokens)
    config = replace(config, model=replace(config.model, vocab_size=len(tokenizer)))
    placement = resolve_placement(config.device, config.precision, parameters=planned_parameters(config.model))
    device = placement.device
    if config.threads:
        torch.set_num_threads(config.threads)
    resolved = config.to_dict()

    train_docs, val_docs = split_documents(read_documents(config.data), config.val_fraction)
    if not val_docs:
        val_docs = train_docs[-1:]
    model = build_model(config.model, eos_token_id=eos_id, pad_token_id=pad_id, seed=config.seed)
    if config.init_from:
        _load_initial_weights(model, Path(config.init_from))
    model = model.to(device)
    optimizer = _optimizer(model, config)
    schedule = {"warmup": config.warmup_steps, "total": config.max_steps, "min_ratio": config.min_lr_ratio}
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, **schedule))

    ckpt_dir = out / "checkpoint"
    metrics_path = out / "metrics.jsonl"
    payload = load_checkpoint(ckpt_dir)
    if payload is not None:
        _check_resumable(payload["config"], resolved, ckpt_dir)
        state = restore(payload, model=model, optimizer=optimizer, scheduler=scheduler)
        kept = [m for m in read_metrics(out) if m.step <= state.step]
        metrics_path.write_text("".join(json.dumps(asdict(m)) + "\n" for m in kept))
        resumed_from: int | None = state.step
    else:
        state = TrainState()
        random.seed(config.seed)
        np.random.seed(config.seed)
        torch.manual_seed(config.seed)
        metrics_path.write_text("")
        resumed_from = None

    val_stream = build_stream(val_docs, tokenizer, tokens=fim_tokens, fim=config.fim, chunk_chars=config.chunk_chars,
                              seed=config.seed, epoch=-1)
    val_x, val_y = rows(val_stream, config.seq_len)
    val_x, val_y = val_x[: config.eval_rows], val_y[: config.eval_rows]
    data = _Data(train_docs, tokenizer, fim_tokens, config)
    tokens_per_step = config.batch_size * config.grad_accum * config.seq_len

    from assay.train.progress import TrainProgress

    last_loss: float | None = None
    last_val: float | None = state.last_val_loss
    stopped_early = False
    segment_start, segment_tokens = time.perf_counter(), 0
    base_elapsed = state.elapsed_s
    stop_reason: str | None = None
    model.train()
    with _StopSignals() as stop, \
            TrainProgress(config.max_steps, start=state.step, enabled=config.progress) as bar, \
            open(metrics_path, "a", encoding="utf-8") as log:
        while state.step < config.max_steps:
            lr = scheduler.get_last_lr()[0]
            step_loss = 0.0
            for _ in range(config.grad_accum):
                xb, yb = data.batch(state)
                xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
                with placement.autocast():
                    logits = model(input_ids=xb).logits
                loss = F.cross_entropy(logits.float().flatten(0, 1), yb.flatten()) / config.grad_accum
                loss.backward()
                step_loss += loss.item()
                state.tokens_seen += xb.numel()
                segment_tokens += xb.numel()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            state.step += 1
            last_loss = step_loss
            state.elapsed_s = base_elapsed + time.perf_counter() - segment_start
            done = state.step >= config.max_steps
            out_of_time = config.max_minutes is not None and state.elapsed_s >= config.max_minutes * 60
            if not done:
                stop_reason = stop.received or ("max_minutes" if out_of_time else None)
            end = done or stop_reason is not None
            val_loss = None
            if state.step % config.eval_interval == 0 or end:
                val_loss = last_val = evaluate(model, val_x, val_y, batch_size=config.batch_size, placement=placement)
                state.last_val_loss = val_loss
                state.best_val_loss = min(val_loss, state.best_val_loss or math.inf)
            if state.step % config.log_interval == 0 or state.step == 1 or val_loss is not None:
                entry = StepLog(state.step, step_loss, lr, state.tokens_seen, round(state.elapsed_s, 3), val_loss)
                log.write(json.dumps(asdict(entry)) + "\n")
                log.flush()
                if on_log:
                    on_log(entry)
            rate = segment_tokens / max(1e-9, time.perf_counter() - segment_start)
            bar.update(state.step, loss=step_loss, val_loss=last_val, tokens_per_s=rate)
            if state.step % config.checkpoint_interval == 0 or end:
                save_checkpoint(ckpt_dir, model=model, optimizer=optimizer, scheduler=scheduler, state=state,
                                config=resolved)
            if stop_reason is not None:
                stopped_early = True
                break

        # Still under _StopSignals: a first signal now cannot cut the export short (a second one aborts).
        model_dir = export_model(model, tokenizer, out / "model", training={
            "config": resolved, "steps": state.step, "tokens_seen": state.tokens_seen, "train_loss": last_loss,
            "val_loss": last_val, "best_val_loss": state.best_val_loss, "elapsed_s": round(state.elapsed_s, 1), "device": device,
            "precision": placement.precision, "precision_reason": placement.reason, "gpu": torch.cuda.get_device_name(device) if device != "cpu" else None,
            "parameters": count_parameters(model), "tokens_per_step": tokens_per_step})
    seg = time.perf_counter() - segment_start
    return PretrainResult(model_dir, state.step, state.tokens_seen, count_parameters(model), last_loss, last_val,
                          state.elapsed_s, segment_tokens / max(1e-9, seg), device, placement.precision,
                          placement.reason, resumed_from, stopped_early, stop_reason)


def export_model(model: Any, tokenizer: Any, out: Path, *, training: dict[str, Any]) -> Path:
    """Save an fp32 safetensors model, its tokenizer and ``training.json`` (how it was made) to ``out``."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    model = model.to("cpu", dtype=torch.float32)
    model.generation_config.eos_token_id = model.config.eos_token_id
    model.generation_config.pad_token_id = model.config.pad_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    share_like_siblings(out)
    (out / "training.json").write_text(json.dumps(training, indent=2, default=str) + "\n")
    return out
