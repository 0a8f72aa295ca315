"""``assay train nano``: the assay-nano recipe end to end.

Stages, each writing under ``out_dir`` (default ``runs/nano``) and each safe to rerun:

1. corpus: permissive offline code (``assay.train.nano_corpus``), decontaminated against the benchmarks
   -> ``corpus/train.jsonl`` + ``corpus/manifest.json``
2. tokenizer: byte-level BPE with the assay-nano spec's special tokens -> ``tokenizer/`` (kept when present,
   so a resumed run sees the same ids)
3. pretrain: FIM pretraining -> ``pretrain/`` (resumes from its checkpoint)
4. publish: the model, tokenizer and a model card -> ``weights_dir`` (the package's
   ``assay/weights/assay-nano`` by default), which ``builtin:assay-nano`` serves.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from assay.errors import ConfigError
from assay.train.model import ModelConfig
from assay.train.nano_card import CardFacts, sample_completions, write_model_card
from assay.train.nano_corpus import CorpusReport, gather_corpus, offline_sources
from assay.train.pretrain import PretrainConfig, PretrainResult, TrainingInterrupted, pretrain
from assay.train.tokenizer import train_tokenizer

PACKAGE_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "assay-nano"
PUBLISHED_FILES = ("model.safetensors", "config.json", "generation_config.json", "tokenizer.json",
                   "tokenizer_config.json", "training.json")


@dataclass(frozen=True)
class NanoConfig:
    """The recipe's settings; the defaults are what trained the shipped weights."""

    out_dir: str = "runs/nano"
    weights_dir: str = str(PACKAGE_WEIGHTS)
    benchmarks: str = str(Path(__file__).resolve().parents[1] / "eval" / "data")
    """Evaluation sets to decontaminate against (HumanEval, HumanEval-X, MBPP JSONL files)."""
    vocab_size: int = 8192
    model: ModelConfig = field(default_factory=ModelConfig)
    max_steps: int = 1700
    """1700 steps x 2k tokens ~ 3.5M tokens (~0.9 epoch): what one nice'd thread on a shared 2-core machine did
    in under half an hour. On a free core or a GPU, raise it (``--steps``) for a better model."""
    lr: float = 1e-3
    """nanoGPT's small-model rate; warmup and gradient clipping keep it stable."""
    warmup_steps: int = 20
    seq_len: int = 512
    batch_size: int = 4
    grad_accum: int = 1
    """2k tokens a step: early in training small batches learn more per token, and steps were the scarce resource."""
    eval_interval: int = 50
    checkpoint_interval: int = 25
    log_interval: int = 10
    seed: int = 1337
    threads: int | None = 1
    """One thread: the recipe is meant to run beside other work on a small machine; None uses all cores."""
    device: str = "auto"
    precision: str = "auto"
    """``auto``: fp32 (nano's 4M parameters train no faster in bf16, even on a GPU); ``bf16`` forces autocast
    (see ``assay.train.precision``)."""
    max_minutes: float | None = 28
    continue_steps: int = 1250
    """Phase 2, continued pretraining from phase 1's model (0 skips it): another pass over the corpus in a new
    order, with 4k-token steps at half the rate, on two threads once the machine was free (~30 minutes)."""
    continue_lr: float = 5e-4
    continue_batch_size: int = 8
    continue_seed: int = 1338
    continue_threads: int | None = 2
    continue_max_minutes: float | None = 32
    go_max_bytes: int = 3_000_000
    ruby_max_bytes: int = 2_000_000
    progress: bool = True

    @property
    def root(self) -> Path:
        return Path(self.out_dir)

    def pretrain_config(self) -> PretrainConfig:
        return PretrainConfig(
            data=(str(self.root / "corpus" / "train.jsonl"),), tokenizer=str(self.root / "tokenizer"),
            out_dir=str(self.root / "pretrain"), model=self.model, seq_len=self.seq_len, batch_size=self.batch_size,
            grad_accum=self.grad_accum, max_steps=self.max_steps, lr=self.lr, warmup_steps=self.warmup_steps,
            eval_interval=self.eval_interval, checkpoint_interval=self.checkpoint_interval,
            log_interval=self.log_interval, eval_rows=32, val_fraction=0.02, seed=self.seed, threads=self.threads,
            device=self.device, precision=self.precision, max_minutes=self.max_minutes, progress=self.progress)


    def continue_config(self) -> PretrainConfig:
        """Phase 2: the same data and model, started from phase 1's weights with a fresh optimizer and schedule."""
        return replace(self.pretrain_config(), out_dir=str(self.root / "phase2"),
                       init_from=str(self.root / "pretrain" / "model"), max_steps=self.continue_steps,
                       lr=self.continue_lr, batch_size=self.continue_batch_size, seed=self.continue_seed,
                       threads=self.continue_threads, max_minutes=self.continue_max_minutes,
                       checkpoint_interval=50)

    def check(self) -> None:
        """Build each phase's ``PretrainConfig`` now, so a bad option (``--threads 0``, a negative
        ``--max-minutes``) is a one-line ``ConfigError`` before the corpus stage, not after it."""
        self.pretrain_config()
        if self.continue_steps:
            self.continue_config()

    def final_run(self) -> Path:
        """The run folder whose ``model/`` is published: phase 2's when the recipe has one."""
        return self.root / ("phase2" if self.continue_steps else "pretrain")


@dataclass(frozen=True)
class NanoResult:
    weights_dir: Path
    corpus: CorpusReport
    pretrain: PretrainResult
    samples: dict[str, str]


def build_corpus(config: NanoConfig) -> CorpusReport:
    sources = offline_sources(config.go_max_bytes, config.ruby_max_bytes)
    report = gather_corpus(config.root / "corpus" / "train.jsonl", sources=sources, benchmarks=Path(config.benchmarks))
    manifest = asdict(report)
    manifest["path"] = str(report.path)
    (config.root / "corpus" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return report


def read_manifest(out_dir: Path) -> CorpusReport:
    from assay.train.nano_corpus import SourceReport

    path = out_dir / "corpus" / "manifest.json"
    if not path.is_file():
        raise ConfigError(f"no corpus manifest at {path}; run the corpus stage first")
    data = json.loads(path.read_text())
    data["path"] = Path(data["path"])
    data["sources"] = [SourceReport(**s) for s in data["sources"]]
    return CorpusReport(**data)


def build_tokenizer(config: NanoConfig) -> Path:
    out = config.root / "tokenizer"
    if (out / "tokenizer.json").is_file():
        return out
    corpus = config.root / "corpus" / "train.jsonl"
    with corpus.open(encoding="utf-8") as fh:
        texts = (json.loads(line)["text"] for line in fh)
        train_tokenizer(texts, out, vocab_size=config.vocab_size, family="assay-nano")
    return out


def _phase_line(name: str, training_json: Path) -> str:
    t = json.loads(training_json.read_text())
    c = t["config"]
    step_tokens = c["batch_size"] * c["grad_accum"] * c["seq_len"]
    return (f"phase {name}: {t['steps']} steps x {step_tokens:,} tokens, lr {c['lr']}, seed {c['seed']}, "
            f"{c.get('threads') or 'all'} thread(s), {t['elapsed_s'] / 60:.1f} min, val loss {t['val_loss']:.3f}")


def publish(config: NanoConfig, corpus: CorpusReport, result: PretrainResult | None = None, *,
            evaluation: list[str] | None = None) -> tuple[Path, dict[str, str]]:
    """Copy the trained model into ``weights_dir`` and write its model card; returns (dir, sample completions)."""
    source = config.final_run() / "model"
    missing = [name for name in PUBLISHED_FILES if not (source / name).is_file()]
    if missing:
        raise ConfigError(f"{source} lacks {', '.join(missing)}; run the pretrain stage to the end first")
    dest = Path(config.weights_dir)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in PUBLISHED_FILES:
        shutil.copyfile(source / name, dest / name)
    training: dict[str, Any] = json.loads((source / "training.json").read_text())
    phases = [_phase_line("1", config.root / "pretrain" / "model" / "training.json")]
    if config.continue_steps:
        phases.append(_phase_line("2 (continued from phase 1)", source / "training.json"))
        first = json.loads((config.root / "pretrain" / "model" / "training.json").read_text())
        training = {**training, "steps": first["steps"] + training["steps"],
                    "tokens_seen": first["tokens_seen"] + training["tokens_seen"],
                    "elapsed_s": first["elapsed_s"] + training["elapsed_s"]}
    samples = sample_completions(dest)
    facts = CardFacts.collect(config_dict=asdict(config), training=training, corpus=corpus, samples=samples,
                              metrics_path=config.final_run() / "metrics.jsonl")
    write_model_card(dest / "README.md", replace(facts, phases=phases, evaluation=evaluation or []))
    return dest, samples


def _loss(value: float | None) -> str:
    return "none" if value is None else f"{value:.3f}"


def _pretrain_stage(config: PretrainConfig) -> PretrainResult:
    """One pretraining phase; ``TrainingInterrupted`` when Ctrl-C or SIGTERM stopped it, so phase 2 and
    publishing do not run on a half-trained model (the phase's checkpoint is saved; a rerun resumes it)."""
    result = pretrain(config)
    if result.interrupted:
        raise TrainingInterrupted(config, result)
    return result


def run_nano(config: NanoConfig = NanoConfig(), *, on_stage: Callable[[str], None] | None = None) -> NanoResult:
    """Run every stage; a rerun after an interruption resumes pretraining from its checkpoint."""
    config.check()
    say = on_stage or (lambda _msg: None)
    say("corpus: gathering permissively licensed offline sources")
    corpus = build_corpus(config)
    say(f"corpus: {corpus.files} files, {corpus.bytes / 1e6:.1f} MB")
    say("tokenizer: training byte-level BPE")
    build_tokenizer(config)
    say("pretrain: training (resumes from runs/.../pretrain/checkpoint when present)")
    result = _pretrain_stage(config.pretrain_config())
    say(f"pretrain: {result.steps} steps, val loss {_loss(result.val_loss)}")
    if config.continue_steps:
        say("pretrain phase 2: continued pretraining from phase 1's model")
        result = _pretrain_stage(config.continue_config())
        say(f"pretrain phase 2: {result.steps} steps, val loss {_loss(result.val_loss)}")
    weights, samples = publish(config, corpus, result)
    say(f"published: {weights}")
    return NanoResult(weights, corpus, result, samples)
