"""``assay report``: a run's scores as a terminal table and a self-contained HTML file.

The HTML holds the per-task score ± 95 % CI (clustered on the source problem; ``answered``, the share
of non-empty outputs, among them, with how many passes are empty answers), a per-language
breakdown, latency / TTFT / tokens / cost per request, the latency distribution (an inline SVG drawn by matplotlib) and the failed and slowest
samples with their prompt, output, error excerpt and pipeline trace. Nothing is loaded from the network.
"""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass
from pathlib import Path

from assay.eval.results import ANSWERED, Estimate, RunResult, percentile
from assay.eval.store import RunInfo, SampleRow

MAX_FAILED = 25
MAX_SLOWEST = 10


@dataclass(frozen=True)
class ReportData:
    run: RunInfo
    result: RunResult
    samples: list[SampleRow]


def fmt(est: Estimate, percent: bool) -> str:
    """``mean ± half-width``, or ``mean [low, high]`` when the CI was clipped to the metric's range (a
    half-width would then read as an interval outside it, e.g. 50.00 ± 98.00 %), or ``mean ± n/a (1
    cluster)`` when no CI can be computed (one source problem: ``± 0.00`` would claim certainty)."""
    scale = 100.0 if percent else 1.0
    if not est.defined:
        return f"{est.mean * scale:.2f} ± n/a ({est.clusters} cluster{'s' if est.clusters != 1 else ''})"
    lo, hi = est.ci95
    if est.clipped:
        return f"{est.mean * scale:.2f} [{lo * scale:.2f}, {hi * scale:.2f}]"
    return f"{est.mean * scale:.2f} ± {(hi - est.mean) * scale:.2f}"


def cell(value: str, unit: str) -> str:
    """A score cell: the unit after the interval (``33.33 ± 5.00 %``), or after the mean when the interval
    is n/a (``33.33 % ± n/a (1 cluster)``)."""
    if not unit:
        return value
    if "n/a" in value:
        mean, rest = value.split(" ", 1)
        return f"{mean} {unit} {rest}"
    return f"{value} {unit}"


def _is_rate(name: str) -> bool:
    return name.startswith("pass@") or name.startswith("em_") or name in {"identifier_em", ANSWERED}


def score_rows(result: RunResult) -> list[tuple[str, str, str, int, int]]:
    """(metric, ``mean ± CI half-width`` or ``mean [low, high]`` (``fmt``), unit, problems, clusters) rows;
    rates in percent."""
    return [(name, fmt(est, _is_rate(name)), "%" if _is_rate(name) else "", est.n, est.clusters)
            for name, est in result.scores.items()]


def request_rows(result: RunResult) -> list[tuple[str, str]]:
    """(label, value) rows of the run's per-request latency, TTFT, tokens and cost; measured values only."""
    r = result.requests
    rows = [(label, f"{value:.1f}") for label, value in (
        ("latency p50 (ms)", r.latency_ms_p50), ("latency p95 (ms)", r.latency_ms_p95),
        ("TTFT p50 (ms)", r.ttft_ms_p50), ("prompt tokens / request", r.prompt_tokens_per_request),
        ("completion tokens / request", r.completion_tokens_per_request)) if value is not None]
    if r.cost_per_request is not None and r.cost_total is not None:
        unit = f" {r.cost_currency}" if r.cost_currency else ""
        rows.append(("cost / request", f"{r.cost_per_request:.6g}{unit}"))
        rows.append((f"cost total ({r.costed_requests} requests)", f"{r.cost_total:.6g}{unit}"))
    else:
        rows.append(("cost / request", "unknown"))
    return rows


def print_table(results: list[RunResult], console) -> None:  # noqa: ANN001 - rich Console
    """One table per run: each metric's mean ± 95 % CI half-width, the per-language rows, then the
    per-request latency, tokens and cost."""
    from rich.table import Table

    for result in results:
        table = Table(title=f"{result.task} · {result.model}", caption=f"run {result.run_id} · "
                      f"{result.problems} problems, {result.samples} samples · 95 % CI clustered on source problem")
        for col in ("metric", "score", "problems", "clusters"):
            table.add_column(col)
        for name, value, unit, n, clusters in score_rows(result):
            table.add_row(name, cell(value, unit), str(n), str(clusters))
        for lang, scores in result.by_language.items():
            for name, est in scores.items():
                table.add_row(f"{name} [{lang}]", cell(fmt(est, _is_rate(name)), "%" if _is_rate(name) else ""),
                              str(est.n), str(est.clusters))
        table.add_row("empty passes", f"{result.empty_passes} of {result.passes}", "", "")
        for label, value in request_rows(result):
            table.add_row(label, value, "", "")
        console.print(table)


def latency_svg(samples: list[SampleRow]) -> str:
    """An SVG histogram of total latency (or execution time when no model was called); '' when no timings."""
    values = [s.latency_ms for s in samples if s.latency_ms is not None and not s.cached]
    label = "model latency (ms)"
    if not values:
        values = [s.exec_ms for s in samples if s.exec_ms is not None]
        label = "sandbox execution time (ms)"
    if not values:
        return ""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3))
    ax = fig.add_subplot()
    ax.hist(values, bins=min(40, max(5, len(values) // 5)), color="#4477aa")
    ax.set_xlabel(label)
    ax.set_ylabel("samples")
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


_pct = percentile


def latency_summary(samples: list[SampleRow]) -> dict[str, float]:
    out: dict[str, float] = {}
    for field in ("ttft_ms", "latency_ms", "exec_ms"):
        values = [getattr(s, field) for s in samples if getattr(s, field) is not None and not (
            field != "exec_ms" and s.cached)]
        if values:
            out[f"{field} p50"] = _pct(values, 0.5)
            out[f"{field} p95"] = _pct(values, 0.95)
    tokens = [s.completion_tokens for s in samples if s.completion_tokens is not None]
    if tokens:
        out["completion tokens (mean)"] = sum(tokens) / len(tokens)
    return out


def _sample_html(s: SampleRow) -> str:
    e = html.escape
    trace = json.dumps(s.trace, indent=2, default=str) if s.trace else "(no trace)"
    timing = ", ".join(f"{k}={v:.0f}" for k, v in (("latency_ms", s.latency_ms), ("ttft_ms", s.ttft_ms),
                                                   ("exec_ms", s.exec_ms)) if v is not None)
    return (f"<details><summary><code>{e(s.task_id)}</code> #{s.index}: <b>{e(s.outcome)}</b> {e(timing)}</summary>"
            f"<h4>prompt (last 1500 chars)</h4><pre>{e(s.prompt[-1500:])}</pre>"
            + (f"<h4>suffix (first 500 chars)</h4><pre>{e(s.suffix[:500])}</pre>" if s.suffix else "")
            + f"<h4>raw output</h4><pre>{e(s.raw_output)}</pre><h4>scored output</h4><pre>{e(s.output)}</pre>"
            + (f"<h4>error</h4><pre>{e(s.detail)}</pre>" if s.detail else "")
            + f"<h4>trace</h4><pre>{e(trace)}</pre></details>")


def render_html(data: ReportData) -> str:
    e = html.escape
    r = data.result
    rows = "".join(f"<tr><td>{e(n)}</td><td>{e(cell(v, unit))}</td><td>{k}</td><td>{c}</td></tr>"
                   for n, v, unit, k, c in score_rows(r))
    lang_rows = "".join(
        f"<tr><td>{e(lang)}</td><td>{e(name)}</td><td>{e(fmt(est, _is_rate(name)))}</td><td>{est.n}</td></tr>"
        for lang, scores in r.by_language.items() for name, est in scores.items())
    outcomes = "".join(f"<tr><td>{e(k)}</td><td>{v}</td></tr>" for k, v in r.outcomes.items())
    lat = "".join(f"<tr><td>{e(k)}</td><td>{v:.1f}</td></tr>" for k, v in latency_summary(data.samples).items())
    per_request = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in request_rows(r))
    failed = [s for s in data.samples if not s.passed][:MAX_FAILED]
    timed = [s for s in data.samples if (s.latency_ms or s.exec_ms) is not None]
    slowest = sorted(timed, key=lambda s: -(s.latency_ms if s.latency_ms is not None else s.exec_ms or 0))[:MAX_SLOWEST]
    config = json.dumps(data.run.config, indent=2, default=str)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>assay report {e(r.run_id)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 10px;text-align:left}}
pre{{background:#f6f6f6;padding:8px;overflow:auto;max-height:400px}}details{{margin:6px 0}}</style></head>
<body><h1>assay report: {e(r.run_id)}</h1>
<p>task <b>{e(r.task)}</b> · model <b>{e(r.model)}</b> · {r.problems} problems · {r.samples} samples ·
created {e(str(data.run.created_at))} · finished {e(str(data.run.finished_at))}</p>
<h2>Scores</h2><p>mean ± 95 % CI half-width, or mean [low, high] where the interval is clipped to the
metric's range, or n/a when the run covers a single source problem (no spread to estimate it from);
standard error clustered on the source problem.</p>
<table><tr><th>metric</th><th>score</th><th>problems</th><th>clusters</th></tr>{rows}</table>
<p>answered: share of samples with a non-empty output. {e(r.empty_passes_sentence)}.</p>
{"<h2>By language</h2><table><tr><th>language</th><th>metric</th><th>score</th><th>problems</th></tr>" + lang_rows + "</table>" if lang_rows else ""}
<h2>Outcomes</h2><table><tr><th>outcome</th><th>samples</th></tr>{outcomes}</table>
<h2>Per request</h2><table>{per_request}</table>
<h2>Latency</h2><table>{lat}</table>{latency_svg(data.samples)}
<h2>Failed samples ({len(failed)} shown of {sum(not s.passed for s in data.samples)})</h2>{"".join(map(_sample_html, failed))}
<h2>Slowest samples</h2>{"".join(map(_sample_html, slowest))}
<h2>Run settings</h2><pre>{e(config)}</pre>
</body></html>
"""


def write_html(data: ReportData, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(data), encoding="utf-8")
    return out


def load_report(run_id: str, store, ks: tuple[int, ...] = (1, 10, 100)) -> ReportData:  # noqa: ANN001 - RunStore
    """Read run ``run_id`` and its samples from ``store`` and aggregate them."""
    from assay.eval.results import summarize

    run = store.run(run_id)
    samples = store.samples(run_id)
    currency = (run.price or {}).get("currency")
    return ReportData(run=run, result=summarize(run.id, run.task, run.model, samples, ks, currency=currency),
                      samples=samples)
