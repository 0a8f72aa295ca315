"""How much faster do the ``ctranslate2`` and ``llamacpp`` providers decode than ``local`` (transformers), on the same model?

Loads ``builtin:assay-nano`` four times in one :class:`~assay.pipeline.engine.Engine` (same process, same
machine): ``local``, ``ctranslate2`` (default options), ``ctranslate2`` with ``penalize_prompt: true``
(the repetition penalty also on prompt tokens, as transformers applies it) and ``llamacpp`` on the model
exported to an f16 GGUF (llama-cpp-python's default thread count). Sends the same N completion
requests (FIM prompts from HumanEval-Infilling random-span-light, greedy, ``max_tokens`` fixed, a time
budget far above any request) through the whole completion pipeline to each, interleaved so load
changes hit all alike, after a few warm-up requests. Reports per provider the median and p95
latency, completion tokens per second (sum of tokens / sum of latencies), and how many outputs are
identical to ``local``'s. The first start's conversion time is reported too (a fresh cache). Writes JSON
to stdout and to ``bench/results/decode_speed.json``.

``--threads N`` gives every arm ``options.threads: N`` (0 = each engine's own default: torch's one per
core, ctranslate2's, llama-cpp-python's half the CPUs); without it each provider uses its option's default.

    python bench/decode_speed.py [--requests 100] [--max-tokens 48] [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from assay.config import ModelConfig, Settings
from assay.eval.tasks.infilling import HumanEvalInfilling
from assay.pipeline.engine import Engine
from assay.pipeline.types import CompletionInput, RequestOverrides
from assay.providers.local import resolve_model_path
from assay.train.export import export_gguf

HERE = Path(__file__).resolve().parent
WARMUP = 5


def arms(cache: str, threads: int | None) -> list[ModelConfig]:
    nano = {"path": "builtin:assay-nano", "device": "cpu"}
    gguf = Path(cache) / "assay-nano.gguf"
    export_gguf(resolve_model_path(nano["path"]), gguf, "f16")
    t = {} if threads is None else {"threads": threads}
    return [
        ModelConfig(name="local", provider="local", options=t, **nano),
        ModelConfig(name="ctranslate2", provider="ctranslate2", options={"cache_dir": cache, **t}, **nano),
        ModelConfig(name="ctranslate2-penalize-prompt", provider="ctranslate2",
                    options={"cache_dir": cache, "penalize_prompt": True, **t}, **nano),
        ModelConfig(name="llamacpp", provider="llamacpp", path=str(gguf), options=t),
    ]


async def run(requests: int, max_tokens: int, threads: int | None = None) -> dict:
    problems = HumanEvalInfilling("random-span-light").problems()[:requests + WARMUP]
    overrides = RequestOverrides(max_tokens=max_tokens, temperature=0.0, time_budget_s=60.0)
    with tempfile.TemporaryDirectory() as cache:
        engine = Engine(Settings(models=arms(cache, threads)))
        names = [m.name for m in engine.settings.models]
        start = time.perf_counter()
        await engine.start()
        start_s = round(time.perf_counter() - start, 2)
        latencies: dict[str, list[float]] = {n: [] for n in names}
        tokens: dict[str, list[int]] = {n: [] for n in names}
        texts: dict[str, list[str]] = {n: [] for n in names}
        for i, problem in enumerate(problems):
            order = names[i % len(names):] + names[:i % len(names)]
            for name in order:
                inp = CompletionInput(prefix=problem.prompt, suffix=problem.suffix, file_name="solution.py",
                                      model=name, overrides=overrides)
                began = time.perf_counter()
                result = await engine.complete(inp)
                elapsed = time.perf_counter() - began
                if i >= WARMUP:
                    latencies[name].append(elapsed * 1000)
                    tokens[name].append(result.usage.completion_tokens)
                    texts[name].append(result.choices[0].text if result.choices else "")
        await engine.close()
    out = {}
    for name in names:
        ms = np.asarray(latencies[name])
        out[name] = {
            "median_ms": round(float(np.median(ms)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "tokens_per_s": round(sum(tokens[name]) / (ms.sum() / 1000), 1),
            "completion_tokens": sum(tokens[name]),
            "identical_to_local": sum(a == b for a, b in zip(texts[name], texts["local"], strict=True)),
        }
    base = out["local"]["median_ms"]
    for name in names:
        out[name]["median_speedup"] = round(base / out[name]["median_ms"], 2)
    return {"engine_start_s_with_conversion": start_s, "providers": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=None,
                        help="options.threads for every arm (0 = each engine's default; default: the option's default)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "decode_speed.json")
    args = parser.parse_args()

    import ctranslate2
    import llama_cpp
    import torch

    report = {
        "benchmark": "decode_speed",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                    "ctranslate2": ctranslate2.__version__, "llama_cpp_python": llama_cpp.__version__},
        "model": "builtin:assay-nano",
        "prompts": "HumanEval-Infilling random-span-light (FIM, first N problems)",
        "requests": args.requests, "max_tokens": args.max_tokens, "decoding": "greedy", "threads": args.threads,
        **asyncio.run(run(args.requests, args.max_tokens, args.threads)),
    }
    text = json.dumps(report, indent=2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
