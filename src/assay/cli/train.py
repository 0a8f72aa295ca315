"""``assay train``: tokenizer training, pretraining from scratch, and the assay-nano recipe."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli.common import JsonOpt, err_console, fail, quiet_transformers
from assay.errors import AssayError

train_app = typer.Typer(name="train", help="Train tokenizers and small code models from scratch.",
                        no_args_is_help=True)

DeviceOpt = Annotated[str, typer.Option(help="'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'.")]
PrecisionOpt = Annotated[str, typer.Option(help="'auto' (bf16 autocast on a bf16-capable GPU for models of 50M "
                                                "parameters or more, where it is faster; else fp32), 'fp32', or 'bf16' "
                                                "(autocast on any device; weights stay fp32).")]


@train_app.callback()
def _train() -> None:
    """Train tokenizers and small code models from scratch."""


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


@train_app.command("tokenizer")
def tokenizer(
    data: Annotated[list[Path], typer.Argument(help="JSONL corpora (a 'text' field per line), source files or folders.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to save the tokenizer to (transformers format).")],
    vocab_size: Annotated[int, typer.Option(help="Vocabulary size, special tokens included.")] = 8192,
    family: Annotated[str, typer.Option(help="Model spec whose FIM / file-separator / eos tokens to add.")] = "assay-nano",
    min_frequency: Annotated[int, typer.Option(help="Minimum pair count for a merge.")] = 2,
    as_json: JsonOpt = False,
) -> None:
    """Train a byte-level BPE tokenizer with the spec's special tokens as single ids.

    A corpus folder's validation shards are left out: validation text stays unseen by everything trained."""
    import sys

    from assay.errors import ConfigError
    from assay.train.data import read_documents
    from assay.train.tokenizer import train_tokenizer

    try:
        docs = read_documents(data)
        train_docs = [d for d in docs if not d.validation]
        if not train_docs:
            raise ConfigError(f"only validation documents in {', '.join(str(p) for p in data)}: a tokenizer is "
                              "trained on a corpus's train-*.jsonl shards")
        result = train_tokenizer((d.text for d in train_docs), out, vocab_size=vocab_size, family=family,
                                 min_frequency=min_frequency,
                                 progress=not as_json and sys.stdout.isatty() and sys.stderr.isatty())
    except AssayError as exc:
        raise fail(exc.message) from None
    held_out = len(docs) - len(train_docs)
    if as_json:
        typer.echo(json.dumps(_jsonable(asdict(result) | {"documents": len(train_docs),
                                                          "validation_documents_left_out": held_out}), indent=2))
        return
    left_out = f" ({held_out} validation documents left out)" if held_out else ""
    typer.echo(f"tokenizer: {result.vocab_size} tokens from {len(train_docs)} documents{left_out} -> {result.path}")
    typer.echo("special tokens: " + ", ".join(f"{t}={i}" for t, i in result.special_tokens.items()))


@train_app.command("pretrain")
def pretrain_cmd(
    data: Annotated[list[Path], typer.Argument(help="JSONL corpora, source files or folders (a corpus folder's "
                                                    "validation-*.jsonl shards become the validation set).")],
    tokenizer: Annotated[Path, typer.Option(help="Tokenizer folder from `assay train tokenizer`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder: checkpoint/, metrics.jsonl, model/.")],
    family: Annotated[str, typer.Option(help="Model spec whose FIM tokens the data uses.")] = "assay-nano",
    layers: Annotated[int, typer.Option(help="Transformer layers.")] = 4,
    hidden: Annotated[int, typer.Option(help="Hidden size.")] = 256,
    heads: Annotated[int, typer.Option(help="Attention heads.")] = 8,
    kv_heads: Annotated[int, typer.Option(help="Key/value heads (grouped-query attention).")] = 4,
    intermediate: Annotated[int, typer.Option(help="MLP size.")] = 688,
    context: Annotated[int, typer.Option(help="Maximum positions of the model.")] = 1024,
    seq_len: Annotated[int, typer.Option(help="Training window in tokens.")] = 512,
    batch_size: Annotated[int, typer.Option(help="Windows per micro-batch.")] = 8,
    grad_accum: Annotated[int, typer.Option(help="Micro-batches per optimizer step.")] = 2,
    steps: Annotated[int, typer.Option(help="Optimizer steps.")] = 600,
    lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 1e-3,
    warmup: Annotated[int, typer.Option(help="Linear warmup steps before the cosine decay.")] = 30,
    fim_rate: Annotated[float, typer.Option(help="Share of chunks turned into FIM examples.")] = 0.5,
    eval_every: Annotated[int, typer.Option(help="Steps between validation runs.")] = 50,
    checkpoint_every: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of initialisation, data order and FIM.")] = 1337,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch (default: torch's choice).")] = None,
    max_minutes: Annotated[float | None, typer.Option(help="Stop (checkpointed) after this many minutes.")] = None,
    init_from: Annotated[Path | None, typer.Option(help="Start from this model folder's weights (continued "
                                                         "pretraining) instead of random ones.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a small Llama from scratch with FIM; rerun the same command to resume after an interruption."""
    from assay.train.fim import FimConfig
    from assay.train.model import ModelConfig
    from assay.train.pretrain import PretrainConfig, pretrain

    try:
        config = PretrainConfig(
            data=tuple(str(p) for p in data), tokenizer=str(tokenizer), out_dir=str(out), family=family,
            model=ModelConfig(hidden_size=hidden, num_layers=layers, num_heads=heads, num_kv_heads=kv_heads,
                              intermediate_size=intermediate, context_length=context),
            seq_len=seq_len, batch_size=batch_size, grad_accum=grad_accum, max_steps=steps, lr=lr,
            warmup_steps=warmup, fim=FimConfig(rate=fim_rate), eval_interval=eval_every,
            checkpoint_interval=checkpoint_every, seed=seed, device=device, precision=precision, threads=threads,
            max_minutes=max_minutes, progress=True, init_from=str(init_from) if init_from else None)
        with quiet_transformers():
            result = pretrain(config)
    except AssayError as exc:
        raise fail(exc.message) from None
    if as_json:
        typer.echo(json.dumps(_jsonable(asdict(result)), indent=2))
    if result.interrupted:
        raise _interrupted(result, config)
    if as_json:
        return
    resumed = f" (resumed at step {result.resumed_from_step})" if result.resumed_from_step is not None else ""
    val = "none" if result.val_loss is None else f"{result.val_loss:.4f}"
    typer.echo(f"trained {result.steps} steps{resumed}, {result.tokens_seen:,} tokens, {result.parameters:,} "
               f"parameters on {result.device} in {result.precision} ({result.precision_reason}); val loss {val} "
               f"-> {result.model_dir}")
    if result.stopped_early:
        typer.echo(f"stopped at step {result.steps} of {config.max_steps} (--max-minutes reached); rerun the same "
                   "command to continue")


def _interrupted(result: Any, config: Any) -> typer.Exit:
    """Print the one line an interrupted run ends with (where it stopped, what was kept, how to go on) on stderr
    and return the exit for the caller to raise: 128 + the signal's number, the shell's convention (Ctrl-C:
    130, ``kill``: 143), so scripts see the run did not finish."""
    import signal

    out = Path(config.out_dir)
    err_console.print(f"interrupted ({result.stop_reason}) at step {result.steps} of {config.max_steps}: "
                      f"checkpoint saved in {out / 'checkpoint'}, model so far in {result.model_dir}; rerun the "
                      "same command to resume", soft_wrap=True, highlight=False, markup=False, emoji=False)
    return typer.Exit(128 + signal.Signals[result.stop_reason].value)


def packaged_benchmarks() -> Path:
    """The evaluation sets installed with assay (``assay/eval/data``), which ``train nano`` decontaminates
    against unless ``--benchmarks`` names others."""
    from importlib import resources

    return Path(str(resources.files("assay") / "eval" / "data"))


@train_app.command("nano")
def nano(
    out: Annotated[Path, typer.Option("--out", "-o", help="Work folder for corpus, tokenizer and checkpoints.")] = Path("runs/nano"),
    weights: Annotated[Path | None, typer.Option(help="Where to publish the model (default: the package's "
                                                      "assay/weights/assay-nano).")] = None,
    benchmarks: Annotated[Path | None, typer.Option(help="Evaluation sets to decontaminate against (default: the "
                                                         "ones shipped in assay/eval/data).")] = None,
    steps: Annotated[int | None, typer.Option(min=1, help="Override the recipe's optimizer steps (each phase).")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads (the recipe uses 1).")] = 1,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    max_minutes: Annotated[float | None, typer.Option(help="Wall-clock budget of each pretraining phase "
                                                           "(default: the recipe's, 28 and 32).")] = None,
    publish_only: Annotated[bool, typer.Option("--publish-only", help="Skip training; publish the finished run in --out.")] = False,
    evaluate: Annotated[bool, typer.Option(help="Score the published weights with `assay eval` for the model card.")] = True,
    eval_limit: Annotated[int | None, typer.Option(help="Problems per evaluation task (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rerun the assay-nano recipe end to end: corpus, tokenizer, FIM pretraining, evaluation, model card."""
    from dataclasses import replace

    from assay.train.nano import NanoConfig, publish, read_manifest, run_nano
    from assay.train.pretrain import TrainingInterrupted

    config = NanoConfig(out_dir=str(out), benchmarks=str(benchmarks or packaged_benchmarks()), threads=threads, device=device,
                        precision=precision, progress=not as_json)
    if weights is not None:
        config = replace(config, weights_dir=str(weights))
    if steps is not None:
        config = replace(config, max_steps=steps, continue_steps=steps)
    if max_minutes is not None:
        config = replace(config, max_minutes=max_minutes, continue_max_minutes=max_minutes)
    try:
        with quiet_transformers():
            if publish_only:
                dest, samples = publish(config, read_manifest(out))
                summary: dict[str, Any] = {"weights_dir": str(dest), "samples": samples}
            else:
                on_stage = None if as_json else lambda msg: err_console.print(f"[bold]{msg}[/]", soft_wrap=True)
                result = run_nano(config, on_stage=on_stage)
                summary = {"weights_dir": str(result.weights_dir), "corpus_files": result.corpus.files,
                           "corpus_bytes": result.corpus.bytes, "pretrain": asdict(result.pretrain),
                           "samples": result.samples}
            if evaluate:
                rows, scores = _evaluate_nano(Path(summary["weights_dir"]), out, limit=eval_limit)
                publish(config, read_manifest(out), evaluation=rows)
                summary["evaluation"] = scores
    except TrainingInterrupted as stop:
        raise _interrupted(stop.result, stop.config) from None
    except AssayError as exc:
        raise fail(exc.message) from None
    if as_json:
        typer.echo(json.dumps(_jsonable(summary), indent=2))
        return
    typer.echo(f"assay-nano published to {summary['weights_dir']}")
    for key, text in summary["samples"].items():
        if not key.endswith(":seconds"):
            typer.echo(f"--- {key}\n{text}")


NANO_EVAL_TASKS = ("humaneval-infilling-single-line", "humaneval-infilling-random-span-light")
"""Fill-in-the-middle benchmarks the model card reports (single-line: 1,033 tasks; random-span-light: 164)."""


def _evaluate_nano(weights: Path, out: Path, *, limit: int | None) -> tuple[list[str], dict[str, Any]]:
    """Score ``weights`` through the production pipeline; the card's Markdown rows and per-task sentence on
    empty passes (``evaluation_section``), and the raw scores.

    Runs go to a database named after a hash of the weights and the spec, so cached generations of other
    weights or decoding settings are never reused.
    """
    import asyncio
    import hashlib

    from assay.config import ModelConfig, Settings
    from assay.eval.generate import PipelineGenerator
    from assay.eval.runner import EvalOptions, run_eval
    from assay.eval.store import RunStore
    from assay.eval.tasks.registry import get_task
    from assay.specs.registry import get_spec

    # Weights and the spec's decoding defaults both change what the pipeline generates.
    digest = hashlib.sha256((weights / "model.safetensors").read_bytes()
                            + get_spec("assay-nano").model_dump_json().encode()).hexdigest()[:12]
    settings = Settings(models=[ModelConfig(name="assay-nano", aliases=["nano"], provider="local",
                                            path=str(weights), spec="assay-nano")])
    store = RunStore(f"sqlite:///{(out / f'eval-{digest}.db').resolve()}")
    rows: list[str] = []
    scores: dict[str, Any] = {}
    try:
        for name in NANO_EVAL_TASKS:
            err_console.print(f"[bold]evaluating assay-nano on {name}[/]", soft_wrap=True)
            result = asyncio.run(run_eval(get_task(name), PipelineGenerator(settings), store,
                                          options=EvalOptions(limit=limit, ks=(1,), workers=2)))
            scores[name] = result.as_dict()
            for metric in ("pass@1", "answered", "em_first_line", "edit_similarity"):
                if (est := result.scores.get(metric)) is not None:
                    low, high = est.ci95
                    interval = f"[{low:.3f}, {high:.3f}]" if est.defined else "n/a (1 cluster)"
                    rows.append(f"| {name} | {result.problems} | {metric} | {est.mean:.3f} | {interval} |")
            rows.append(f"{name}: {result.empty_passes_sentence}.")
    finally:
        store.close()
    return rows, scores
