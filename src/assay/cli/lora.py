"""``assay train lora``: the typer command function; the integrator registers ``lora_command`` on ``train``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from assay.cli.common import JsonOpt, err_console, fail, quiet_transformers
from assay.cli.train import DeviceOpt, PrecisionOpt
from assay.errors import AssayError


def lora_command(
    base: Annotated[str, typer.Argument(help="Base model: a Hugging Face id or a local model directory.")],
    data: Annotated[Path, typer.Option("--data", "-d", help="Corpus folder from `assay data build`, or a JSONL file with a 'text' field.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (adapter, or merged model with --merge).")],
    spec: Annotated[str | None, typer.Option(help="Model-spec family for FIM tokens (when omitted: recorded in BASE's folder, else matched from BASE).")] = None,
    merge: Annotated[bool, typer.Option("--merge", help="Merge the adapter into the base weights.")] = False,
    steps: Annotated[int, typer.Option(help="Optimisation steps.")] = 200,
    batch_size: Annotated[int, typer.Option(help="Sequences per step.")] = 4,
    seq_len: Annotated[int, typer.Option(help="Tokens per sequence.")] = 512,
    lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 2e-4,
    rank: Annotated[int, typer.Option(help="LoRA rank.")] = 8,
    alpha: Annotated[int, typer.Option(help="LoRA alpha.")] = 16,
    dropout: Annotated[float, typer.Option(help="LoRA dropout.")] = 0.05,
    target: Annotated[list[str] | None, typer.Option("--target", help="Module names to adapt (repeatable).")] = None,
    fim_rate: Annotated[float, typer.Option(help="Share of documents turned into FIM examples.")] = 0.5,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "auto",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """LoRA-tune a causal LM on your code; the output loads with transformers and `assay serve`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from assay.providers.hf_tokenizer import missing_directory
    from assay.train.lora import LoraOptions, train_lora

    if missing_directory(base):
        raise fail(f"base model directory {base} does not exist")
    try:
        options = LoraOptions(base=base, data=data, out=out, spec=spec, fim_rate=fim_rate, rank=rank, alpha=alpha,
                              dropout=dropout, target_modules=tuple(target or ()), steps=steps,
                              batch_size=batch_size, seq_len=seq_len, lr=lr, merge=merge, seed=seed, device=device,
                              precision=precision)
        with Progress(TextColumn("lora"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
                      TimeRemainingColumn(), console=err_console, transient=True, disable=as_json) as bar, quiet_transformers():
            task = bar.add_task("lora", total=steps, loss="-")
            result = train_lora(options, on_step=lambda step, loss: bar.update(task, completed=step,
                                                                               loss=f"{loss:.3f}"))
    except AssayError as exc:
        raise fail(exc.message) from None
    first, last = result.losses[0], result.losses[-1]
    summary = {"out": str(result.out), "adapter_dir": str(result.adapter_dir), "merged": result.merged,
               "fim": result.fim, "steps": len(result.losses), "first_loss": first, "last_loss": last,
               "val_loss_before": result.val_loss_before, "val_loss_after": result.val_loss_after,
               "trainable_parameters": result.trainable_parameters, "train_tokens": result.train_tokens,
               "device": result.device, "precision": result.precision,
               "precision_reason": result.precision_reason}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(f"loss {first:.3f} → {last:.3f} over {len(result.losses)} steps on {result.device} in "
               f"{result.precision} ({result.precision_reason}; {'FIM' if result.fim else 'plain causal LM'} data, "
               f"{result.trainable_parameters} trainable parameters)")
    if result.val_loss_before is not None:
        typer.echo(f"validation loss {result.val_loss_before:.3f} → {result.val_loss_after:.3f}")
    typer.echo(f"{'merged model' if result.merged else 'adapter'} saved to {result.out}")
