"""How much latency does the gateway add over calling the upstream model server directly?

Starts two real servers on loopback: an upstream (``assay serve`` with the deterministic ``echo``
provider, so the upstream's own time is small and constant) and the gateway (``assay serve`` with
an ``openai`` provider pointing at that upstream). Then, at 1 and 32 concurrent clients, it sends
the same completion request directly to the upstream and through the gateway (OpenAI
``/v1/completions`` and GitLab ``/v2/code/completions``, which runs the whole pipeline), and reports
median and p99 latency of each and what the gateway adds. Writes JSON to stdout and to
``bench/results/gateway_overhead.json``.

    python bench/gateway_overhead.py [--requests 400]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(config: str, port: int, workdir: Path) -> subprocess.Popen:
    path = workdir / f"assay-{port}.yaml"
    path.write_text(config)
    proc = subprocess.Popen(
        [sys.executable, "-m", "assay", "serve", "--no-auth", "--config", str(path), "--port", str(port),
         "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/monitoring/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"server on {port} did not start")


async def measure(url: str, body: dict, concurrency: int, total: int) -> list[float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        for _ in range(min(20, total)):  # warm-up
            (await client.post(url, json=body)).raise_for_status()
        queue = iter(range(total))

        async def worker() -> None:
            for _ in queue:
                start = time.perf_counter()
                response = await client.post(url, json=body)
                latencies.append((time.perf_counter() - start) * 1000)
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def summary(ms: list[float]) -> dict[str, float]:
    arr = np.asarray(ms)
    return {"median_ms": round(float(np.median(arr)), 3), "p99_ms": round(float(np.percentile(arr, 99)), 3),
            "n": int(arr.size)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per measurement")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "gateway_overhead.json")
    args = parser.parse_args()

    up_port, gw_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        upstream = start_server(
            "models:\n  - name: upstream\n    provider: echo\n    options: {mode: reply, reply: '    return a + b'}\n",
            up_port, work)
        gateway = start_server(
            "models:\n  - name: upstream\n    provider: openai\n"
            f"    base_url: http://127.0.0.1:{up_port}/v1\n    spec: generic\n",
            gw_port, work)
        try:
            prefix = "def add(a, b):\n"
            openai_body = {"model": "upstream", "prompt": prefix, "max_tokens": 16, "temperature": 0}
            gitlab_body = {"current_file": {"file_name": "add.py", "content_above_cursor": prefix,
                                            "content_below_cursor": "\n"}}
            results = []
            for concurrency in (1, 32):
                total = args.requests
                direct = summary(asyncio.run(measure(f"http://127.0.0.1:{up_port}/v1/completions",
                                                     openai_body, concurrency, total)))
                via_openai = summary(asyncio.run(measure(f"http://127.0.0.1:{gw_port}/v1/completions",
                                                         openai_body, concurrency, total)))
                via_gitlab = summary(asyncio.run(measure(f"http://127.0.0.1:{gw_port}/v2/code/completions",
                                                         gitlab_body, concurrency, total)))
                for route, via in (("/v1/completions", via_openai), ("/v2/code/completions", via_gitlab)):
                    results.append({
                        "concurrency": concurrency, "route": route, "direct": direct, "via_gateway": via,
                        "added_median_ms": round(via["median_ms"] - direct["median_ms"], 3),
                        "added_p99_ms": round(via["p99_ms"] - direct["p99_ms"], 3),
                    })
        finally:
            for proc in (gateway, upstream):
                proc.terminate()
                proc.wait(timeout=10)
    report = {"benchmark": "gateway_overhead", "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "requests_per_measurement": args.requests, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
