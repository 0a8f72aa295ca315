"""Training throughput of ``assay train pretrain``'s loop in fp32 and in bf16 autocast, at several model sizes.

``--precision auto`` picks bf16 on a GPU with native bf16. Whether that is faster depends on the model:
a tiny model's step is a long chain of small kernels (launch-bound), and autocast adds a cast per weight
per forward, while a large model's step is matrix products, where bf16 tensor cores are several times
faster than fp32. This measures where the line falls, on one machine, in one process: for each size the
two precisions alternate ``--rounds`` times (order flipped each round, so neither always runs on a cold
or a warm GPU) and the best round of each counts. Rates are steady state, from assay's own step log:
from the end of the first ``--warmup`` steps to the last step (data preparation, evaluation and export
excluded). Writes JSON to stdout and to ``--out`` after every measurement, so a run cut short keeps what
it finished.

    python bench/train_precision.py --device cuda [--sizes nano,mini,small,medium] [--steps 30] [--rounds 2]
    python bench/train_precision.py --device cpu --sizes nano --steps 8 --rounds 1   # a CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from train_throughput import corpus, cpu_name

from assay.train.data import read_documents
from assay.train.model import ModelConfig, build_model, count_parameters
from assay.train.pretrain import PretrainConfig, pretrain, read_metrics
from assay.train.tokenizer import load_tokenizer, train_tokenizer

HERE = Path(__file__).resolve().parent

SIZES = {
    "nano": {"hidden_size": 256, "num_layers": 4, "num_heads": 8, "num_kv_heads": 4, "intermediate_size": 688},
    "mini": {"hidden_size": 512, "num_layers": 8, "num_heads": 8, "num_kv_heads": 4, "intermediate_size": 1376},
    "small": {"hidden_size": 768, "num_layers": 12, "num_heads": 12, "num_kv_heads": 4, "intermediate_size": 2048},
    "medium": {"hidden_size": 1536, "num_layers": 16, "num_heads": 16, "num_kv_heads": 8, "intermediate_size": 4096},
}
"""nano is assay-nano's shape (the ``assay train pretrain`` default, 4M parameters); mini (25M) doubles its width
and depth; small (79M) and medium (422M) are GPT-2-small- and GPT-2-large-like Llamas."""


def steady_rate(run: Path, warmup: int) -> float:
    logs = read_metrics(run)
    first = next(m for m in logs if m.step == warmup)
    last = logs[-1]
    return (last.tokens - first.tokens) / (last.elapsed_s - first.elapsed_s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    ap.add_argument("--sizes", default="nano,mini,small,medium", help=f"comma-separated, from {', '.join(SIZES)}")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--grad-accum", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "train_precision.json")
    args = ap.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if unknown := [s for s in sizes if s not in SIZES]:
        ap.error(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    if args.steps <= args.warmup:
        ap.error(f"--steps ({args.steps}) must exceed --warmup ({args.warmup}): only the steps after the warmup are timed")

    result: dict = {
        "benchmark": "train_precision",
        "command": f"python bench/train_precision.py --device {args.device} --sizes {','.join(sizes)} "
                   f"--steps {args.steps} --rounds {args.rounds}",
        "setup": {"seq_len": args.seq_len, "batch_size": args.batch_size, "grad_accum": args.grad_accum,
                  "steps": args.steps, "timed_steps": args.steps - args.warmup, "rounds": args.rounds},
        "machine": {"cpu": cpu_name(), "python": platform.python_version(), "torch": torch.__version__,
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "sizes": {},
    }

    def write() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = corpus(root, files=120)
        train_tokenizer((d.text for d in read_documents([data])), root / "tok", vocab_size=4096)
        vocab = len(load_tokenizer(root / "tok"))
        for size in sizes:
            shape = ModelConfig(vocab_size=vocab, context_length=args.seq_len, **SIZES[size])
            base = PretrainConfig(
                data=(str(data),), tokenizer=str(root / "tok"), out_dir="", model=shape, seq_len=args.seq_len,
                batch_size=args.batch_size, grad_accum=args.grad_accum, max_steps=args.steps, warmup_steps=2,
                eval_interval=args.steps, checkpoint_interval=args.steps, log_interval=1, eval_rows=4,
                progress=False, seed=0, device=args.device)
            rates: dict[str, list[float]] = {"fp32": [], "bf16": []}
            started = time.perf_counter()
            for r in range(args.rounds):
                for precision in ("fp32", "bf16") if r % 2 == 0 else ("bf16", "fp32"):
                    run = root / f"{size}-{precision}-{r}"
                    pretrain(replace(base, out_dir=str(run), precision=precision))
                    rates[precision].append(steady_rate(run, args.warmup))
            fp32, bf16 = max(rates["fp32"]), max(rates["bf16"])
            result["sizes"][size] = {
                "parameters": count_parameters(build_model(shape, eos_token_id=0)), **SIZES[size],
                "fp32_tokens_per_s": round(fp32), "bf16_tokens_per_s": round(bf16),
                "bf16_speedup": round(bf16 / fp32, 2),
                "rounds": {k: [round(v) for v in vs] for k, vs in rates.items()},
                "seconds": round(time.perf_counter() - started, 1),
            }
            print(json.dumps({size: result["sizes"][size]}), flush=True)
            write()
    write()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
