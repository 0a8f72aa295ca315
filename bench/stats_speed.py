"""How long does ``assay compare``'s paired bootstrap take: 10,000 resamples over 10,000 problems?

Target (issue 5): at most 0.5 s on a 2-core CPU. Two synthetic cases of per-problem scores for A and B:
``binary`` (pass/fail, correlated; few distinct differences, so the exact multinomial path runs) and
``continuous`` (scores in [0, 1], every difference distinct, so problem indices are resampled). The timed
call is ``assay.stats.paired.paired_bootstrap`` with an explicit seeded generator, repeated ``--rounds``
times after one warm-up. Reports median and fastest wall-clock time and median process CPU time, plus the
load average, because other work on a shared machine inflates wall time. Writes JSON to stdout and to ``bench/results/stats_speed.json``.

    python bench/stats_speed.py [--problems 10000] [--resamples 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from assay.stats.paired import paired_bootstrap

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=10_000)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "stats_speed.json")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    latent = rng.normal(size=args.problems)
    cases = {
        "binary": (
            (latent + rng.normal(size=args.problems) > 0).astype(float),
            (latent + rng.normal(size=args.problems) > -0.1).astype(float),
        ),
        "continuous": (
            1 / (1 + np.exp(-(latent + rng.normal(size=args.problems)))),
            1 / (1 + np.exp(-(latent + rng.normal(size=args.problems) + 0.1))),
        ),
    }
    report: dict = {
        "benchmark": "paired_bootstrap",
        "problems": args.problems,
        "resamples": args.resamples,
        "rounds": args.rounds,
        "target_s": 0.5,
        "cases": {},
    }
    for name, (a, b) in cases.items():
        paired_bootstrap(a, b, rng=np.random.default_rng(1), n_resamples=min(1000, args.resamples))
        wall, cpu = [], []
        for r in range(args.rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            result = paired_bootstrap(a, b, rng=np.random.default_rng(r), n_resamples=args.resamples)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        report["cases"][name] = {
            "wall_s_median": round(statistics.median(wall), 4),
            "wall_s_min": round(min(wall), 4),
            "cpu_s_median": round(statistics.median(cpu), 4),
            "ci95_last_round": [round(x, 5) for x in result.ci],
        }
    report.update(
        cpus=os.cpu_count(),
        load_average_1m=round(os.getloadavg()[0], 2),
        numpy=np.__version__,
        python=platform.python_version(),
        machine=platform.machine(),
    )
    text = json.dumps(report, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
