"""Training throughput of ``assay train pretrain``'s loop against a minimal plain-PyTorch loop.

Both train the same Llama (same config and initial weights), with the same batch size, sequence
length, gradient accumulation, AdamW settings and clipping, on the same token windows (built by
assay's data pipeline from CPython standard-library files with FIM applied). The assay loop's rate
comes from its own step log (steady state: from the end of the first ``--warmup`` steps to the last
step, so data preparation and the end-of-run evaluation and export are excluded); the plain loop is
timed the same way. The two alternate ``--rounds`` times in one process, and the best round of each
counts, which keeps a noisy shared machine from deciding the result. Target: assay >= 0.9x plain.
Writes JSON to stdout and to ``bench/results/train_throughput.json``.

    python bench/train_throughput.py [--steps 24] [--rounds 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sysconfig
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from assay.train.data import build_stream, read_documents, rows
from assay.train.fim import FimConfig, FimTokens
from assay.train.model import ModelConfig, build_model, count_parameters
from assay.train.pretrain import PretrainConfig, pretrain, read_metrics
from assay.train.tokenizer import load_tokenizer, train_tokenizer

HERE = Path(__file__).resolve().parent


def corpus(root: Path, files: int = 60) -> Path:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    out = root / "corpus.jsonl"
    picked = sorted(p for p in stdlib.glob("*.py") if 2_000 < p.stat().st_size < 60_000)[:files]
    with out.open("w") as fh:
        for p in picked:
            fh.write(json.dumps({"text": p.read_text(encoding="utf-8"), "language": "python", "id": p.name}) + "\n")
    return out


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def assay_round(config: PretrainConfig, warmup: int) -> float:
    pretrain(config)
    logs = read_metrics(Path(config.out_dir))
    first = next(m for m in logs if m.step == warmup)
    last = logs[-1]
    return (last.tokens - first.tokens) / (last.elapsed_s - first.elapsed_s)


def plain_round(config: PretrainConfig, x: torch.Tensor, y: torch.Tensor, eos_id: int, warmup: int) -> float:
    model = build_model(config.model, eos_token_id=eos_id, seed=config.seed)
    model.train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=config.lr,
                            betas=(config.beta1, config.beta2))
    gen = torch.Generator().manual_seed(0)
    order = torch.randperm(x.shape[0], generator=gen)
    cursor, tokens, start = 0, 0, 0.0
    for step in range(config.max_steps):
        if step == warmup:
            start, tokens = time.perf_counter(), 0
        for _ in range(config.grad_accum):
            idx = order[cursor : cursor + config.batch_size]
            cursor = (cursor + config.batch_size) % (x.shape[0] - config.batch_size)
            logits = model(input_ids=x[idx]).logits
            loss = F.cross_entropy(logits.float().flatten(0, 1), y[idx].flatten()) / config.grad_accum
            loss.backward()
            tokens += idx.numel() * x.shape[1]
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return tokens / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--warmup", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "train_throughput.json")
    args = ap.parse_args()
    if args.steps <= args.warmup:
        ap.error(f"--steps ({args.steps}) must exceed --warmup ({args.warmup}): only the steps after the warmup are timed")
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = corpus(root)
        docs = read_documents([data])
        train_tokenizer((d.text for d in docs), root / "tok", vocab_size=4096)
        tok = load_tokenizer(root / "tok")
        base = PretrainConfig(
            data=(str(data),), tokenizer=str(root / "tok"), out_dir="", seq_len=256, batch_size=8, grad_accum=2,
            model=ModelConfig(vocab_size=len(tok), hidden_size=128, num_layers=4, num_heads=4, num_kv_heads=2,
                              intermediate_size=344, context_length=256),
            max_steps=args.steps, warmup_steps=2, eval_interval=args.steps, checkpoint_interval=args.steps,
            log_interval=1, eval_rows=4, threads=args.threads, progress=False, seed=0)
        fim = FimTokens.from_spec(base.family)
        stream = build_stream(docs, tok, tokens=fim, fim=FimConfig(), chunk_chars=base.chunk_chars, seed=0, epoch=0)
        x, y = rows(stream, base.seq_len)
        eos_id = tok.convert_tokens_to_ids(fim.eos)

        assay_rates, plain_rates = [], []
        for r in range(args.rounds):
            plain_rates.append(plain_round(base, x, y, eos_id, args.warmup))
            assay_rates.append(assay_round(replace(base, out_dir=str(root / f"run{r}")), args.warmup))
        params = count_parameters(build_model(base.model, eos_token_id=eos_id))

    best_assay, best_plain = max(assay_rates), max(plain_rates)
    result = {
        "benchmark": "train_throughput",
        "command": "python bench/train_throughput.py " + " ".join(
            f"--{k} {v}" for k, v in (("steps", args.steps), ("rounds", args.rounds), ("threads", args.threads))),
        "assay_tokens_per_s": round(best_assay, 1),
        "plain_tokens_per_s": round(best_plain, 1),
        "ratio": round(best_assay / best_plain, 3),
        "target_ratio": 0.9,
        "rounds": {"assay": [round(v, 1) for v in assay_rates], "plain": [round(v, 1) for v in plain_rates]},
        "setup": {"parameters": params, "layers": 4, "hidden": 128, "seq_len": base.seq_len,
                  "batch_size": base.batch_size, "grad_accum": base.grad_accum, "steps": args.steps,
                  "timed_steps": args.steps - args.warmup, "device": "cpu", "dtype": "float32",
                  "threads": args.threads},
        "machine": {"cpu": cpu_name(), "python": platform.python_version(),
                    "torch": torch.__version__, "load_average_1m": round(os.getloadavg()[0], 2)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
