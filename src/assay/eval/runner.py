"""Run a task against a generator: generate, post-process, score, store; resumable and parallel.

``run_eval`` skips every (problem, sample index) already stored under the run id, so killing a run
and rerunning the same command finishes it with identical results. Model calls are looked up in the
DB cache first (key: generator identity, prompt, suffix, decoding parameters including the per-sample
seed). Each sample's cost is computed from its token counts and ``Generator.price`` (null when
either is unknown). Up to ``workers`` samples are in flight at once; sandboxed execution runs in worker threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from assay.config import ModelCost, request_cost
from assay.errors import RequestInvalid
from assay.eval.generate import Generated, Generator, GenParams
from assay.eval.results import RunResult, summarize
from assay.eval.store import RunStore, SampleRow, cache_key
from assay.eval.tasks.base import Problem, Task
from assay.types import Usage

FLUSH_ROWS = 64
FLUSH_S = 2.0
"""Scored samples are written in batches of up to ``FLUSH_ROWS`` or every ``FLUSH_S`` seconds, and
on the way out (also when interrupted), so a killed run loses at most one unflushed batch."""

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each stored sample."""


@dataclass(frozen=True)
class EvalOptions:
    n: int = 1
    """Samples per problem (ignored for a samples file, which brings its own)."""
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int | None = None
    """None: the task's default."""
    limit: int | None = None
    """Only ``limit`` problems, spread over the task's source problems (``spread_limit``)."""
    workers: int = 4
    seed: int = 0
    ks: tuple[int, ...] = (1, 10, 100)


def run_config(task: Task, generator: Generator, options: EvalOptions) -> dict:
    """Everything that changes results; a run id is bound to it."""
    return {"task": task.describe(), "generator": generator.describe(), "n": options.n,
            "temperature": options.temperature, "top_p": options.top_p, "max_tokens": options.max_tokens,
            "limit": options.limit, "seed": options.seed,
            **({"limit_spread": "round-robin over source problems"} if options.limit is not None else {})}


def default_run_id(task: Task, generator: Generator, options: EvalOptions) -> str:
    """``<task>-<model>-<8 hex of the config>``: the same command always maps to the same run."""
    digest = hashlib.sha256(json.dumps(run_config(task, generator, options), sort_keys=True).encode()).hexdigest()
    model = re.sub(r"[^A-Za-z0-9_.-]+", "_", generator.model or "model").strip("_")[:60]
    return f"{task.name}-{model}-{digest[:8]}"


def sample_cost(generated: Generated, price: ModelCost | None) -> float | None:
    """The request's cost at ``price``; None when the price or either token count is unknown."""
    if price is None or generated.prompt_tokens is None or generated.completion_tokens is None:
        return None
    usage = Usage(prompt_tokens=generated.prompt_tokens, completion_tokens=generated.completion_tokens)
    return request_cost(usage, price)


def _params(task: Task, options: EvalOptions, index: int) -> GenParams:
    return GenParams(max_tokens=options.max_tokens or task.max_tokens, temperature=options.temperature,
                     top_p=options.top_p, stop=task.stop,
                     seed=(options.seed + index) if options.temperature > 0 else None)


def spread_limit(problems: list[Problem], limit: int) -> list[Problem]:
    """``limit`` problems taken round-robin over their source problems (``Problem.source``), in task order.

    Infilling tasks hold many problems cut from one source (HumanEval-Infilling single-line: 1,033 from 164),
    listed source by source, so the first 20 are all one function: one cluster, no interval, and a score
    about that function alone. Taking each source's first problem, then each one's second, and so on makes
    a small run cover as many sources as it can; where every problem is its own source this is the first
    ``limit``."""
    by_source: dict[str, list[int]] = {}
    for i, problem in enumerate(problems):
        by_source.setdefault(problem.source, []).append(i)
    picked: list[int] = []
    depth = 0
    while len(picked) < min(limit, len(problems)):
        for indices in by_source.values():
            if depth < len(indices) and len(picked) < limit:
                picked.append(indices[depth])
        depth += 1
    return [problems[i] for i in sorted(picked)]


def _work(task: Task, generator: Generator, options: EvalOptions) -> list[tuple[Problem, int]]:
    problems = task.problems()
    if options.limit is not None:
        problems = spread_limit(problems, options.limit)
    counts = {p.task_id: generator.samples_for(p) for p in problems}
    if all(c is not None for c in counts.values()):
        known = {p.task_id for p in problems}
        extra = sorted(set(getattr(generator, "by_task", {})) - known)
        if extra and options.limit is None:
            raise RequestInvalid(f"samples name task ids that {task.name} does not have: {', '.join(extra[:5])}")
        problems = [p for p in problems if counts[p.task_id]]
        if not problems:
            raise RequestInvalid(f"no samples match the problems of {task.name}")
        return [(p, i) for p in problems for i in range(counts[p.task_id] or 0)]
    return [(p, i) for p in problems for i in range(options.n)]


async def _generate(generator: Generator, store: RunStore, problem: Problem, params: GenParams, index: int,
                    locks: dict[str, asyncio.Lock]) -> Generated:
    """One model call through the DB cache; identical calls in flight wait for the first one."""
    if generator.cache_label is None:
        return await generator.generate(problem, params, index)
    key = cache_key(generator.cache_label, problem.prompt, problem.suffix, params.as_dict())
    async with locks.setdefault(key, asyncio.Lock()):
        hit = await asyncio.to_thread(store.cached, key)
        if hit is not None:
            return Generated(**{**hit, "cached": True})
        out = await generator.generate(problem, params, index)
        await asyncio.to_thread(store.cache, key, generator.model, out.as_dict())
        return out


async def run_eval(task: Task, generator: Generator, store: RunStore, options: EvalOptions = EvalOptions(),
                   run_id: str | None = None, progress: Progress | None = None) -> RunResult:
    """Evaluate ``task`` with ``generator``, storing every sample under ``run_id``; return the scores."""
    if options.workers < 1:
        raise RequestInvalid("workers must be at least 1", field="workers")
    work = _work(task, generator, options)
    run_id = run_id or default_run_id(task, generator, options)
    price = generator.price.model_dump() if generator.price is not None else None
    store.start_run(run_id, task.name, generator.model, run_config(task, generator, options), price=price)
    done = store.done(run_id)
    todo = [(p, i) for p, i in work if (p.task_id, i) not in done]
    finished = len(work) - len(todo)
    if progress:
        progress(finished, len(work))
    if todo:
        await generator.start()
        try:
            finished = await _run_all(task, generator, store, options, run_id, todo, finished, len(work), progress)
        finally:
            await generator.close()
    store.finish_run(run_id)
    keys = {(p.task_id, i) for p, i in work}
    samples = [s for s in store.samples(run_id) if (s.task_id, s.index) in keys]
    return summarize(run_id, task.name, generator.model, samples, options.ks,
                     currency=generator.price.currency if generator.price is not None else None)


async def _run_all(task: Task, generator: Generator, store: RunStore, options: EvalOptions, run_id: str,
                   todo: Sequence[tuple[Problem, int]], finished: int, total: int,
                   progress: Progress | None) -> int:
    locks: dict[str, asyncio.Lock] = {}
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="assay-score")
    count = finished
    pending: list[SampleRow] = []
    last_flush = time.monotonic()

    async def flush() -> None:
        nonlocal pending, last_flush
        batch, pending = pending, []
        last_flush = time.monotonic()
        await asyncio.to_thread(store.add_samples, batch)

    async def one(problem: Problem, index: int) -> None:
        nonlocal count
        gen = await _generate(generator, store, problem, _params(task, options, index), index, locks)
        output = task.postprocess(problem, gen.text)
        score = await loop.run_in_executor(pool, task.score, problem, output)
        row = SampleRow(
            run_id=run_id, task_id=problem.task_id, index=index, cluster=problem.source,
            language=problem.language, prompt=problem.prompt, suffix=problem.suffix, raw_output=gen.text,
            output=output, passed=score.passed, outcome=score.outcome, metrics=score.metrics,
            detail=score.detail, ttft_ms=gen.ttft_ms, latency_ms=gen.latency_ms,
            exec_ms=score.exec_s * 1000 if score.exec_s is not None else None,
            prompt_tokens=gen.prompt_tokens, completion_tokens=gen.completion_tokens, cached=gen.cached,
            trace=gen.trace, cost=sample_cost(gen, generator.price))
        pending.append(row)
        if len(pending) >= FLUSH_ROWS or time.monotonic() - last_flush > FLUSH_S:
            await flush()
        count += 1
        if progress:
            progress(count, total)

    queue = iter(todo)

    async def worker() -> None:
        for problem, index in queue:
            await one(problem, index)

    tasks = [asyncio.create_task(worker()) for _ in range(min(options.workers, len(todo)))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        await asyncio.shield(flush())
        pool.shutdown(wait=False, cancel_futures=True)
    return count
