"""Figures for the decision report, drawn with matplotlib's object API on the Agg backend.

Each function draws one figure and returns it as bytes in ``fmt`` ("png" or "svg"); nothing touches
pyplot's global state, so plotting is safe in servers and tests. matplotlib is imported lazily.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from assay.stats.compare import Comparison, ParetoPoint
from assay.stats.experiment import DailyLift, ExperimentAnalysis


def _figure(width: float = 6.4, height: float = 4.0) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _bytes(fig: Any, fmt: str) -> bytes:
    if fmt not in ("png", "svg"):
        raise ValueError(f"figure format must be png or svg, got {fmt!r}")
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()


def pareto_figure(points: Sequence[ParetoPoint], *, fmt: str = "png") -> bytes:
    """Quality against mean latency (or cost when latency is missing); frontier runs joined by a line."""
    if not points:
        raise ValueError("no runs to plot")
    fig = _figure()
    ax = fig.add_subplot()
    axis = "latency_ms" if all(p.latency_ms is not None for p in points) else "cost"
    if all(getattr(p, axis) is not None for p in points):
        xs = [float(getattr(p, axis)) for p in points]
        ax.set_xlabel("mean latency (ms)" if axis == "latency_ms" else "mean cost")
    else:
        xs = list(range(len(points)))
        ax.set_xticks(xs, [p.run for p in points])
    ys = [p.quality for p in points]
    colors = ["tab:green" if p.on_frontier else "tab:gray" for p in points]
    ax.scatter(xs, ys, c=colors, s=50, zorder=3)
    for x, y, p in zip(xs, ys, points, strict=True):
        label = p.run if p.cost is None or axis == "cost" else f"{p.run} (cost {p.cost:.3g})"
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    front = sorted((x, y) for x, y, p in zip(xs, ys, points, strict=True) if p.on_frontier)
    if len(front) > 1:
        ax.plot([f[0] for f in front], [f[1] for f in front], color="tab:green", lw=1.5, zorder=2)
    ax.set_ylabel(points[0].metric)
    ax.set_title("Quality / latency / cost: Pareto frontier in green")
    ax.grid(alpha=0.3)
    return _bytes(fig, fmt)


def differences_figure(comparison: Comparison, *, fmt: str = "png") -> bytes:
    """Forest plot: each pair's paired difference per metric (overall subgroup) with its 95% CI."""
    rows = [
        (f"{p.b} − {p.a}: {m.metric}", m) for p in comparison.pairs for m in p.metrics if m.subgroup == "all"
    ]
    fig = _figure(6.4, max(2.0, 0.45 * len(rows) + 1.2))
    ax = fig.add_subplot()
    for i, (_, m) in enumerate(rows):
        ax.errorbar(
            m.diff, i, xerr=[[m.diff - m.ci95[0]], [m.ci95[1] - m.diff]], fmt="o", color="tab:blue", capsize=3
        )
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("paired difference (B − A) with 95% CI")
    ax.grid(axis="x", alpha=0.3)
    return _bytes(fig, fmt)


def arm_rates_figure(analysis: ExperimentAnalysis, *, fmt: str = "png") -> bytes:
    """Acceptance rate per arm with its delta-method 95% CI."""
    fig = _figure(5.0, 3.5)
    ax = fig.add_subplot()
    arms = analysis.arms
    for i, a in enumerate(arms):
        ax.errorbar(
            i,
            a.acceptance_rate,
            yerr=[[a.acceptance_rate - a.ci[0]], [a.ci[1] - a.acceptance_rate]],
            fmt="o",
            capsize=4,
            color="tab:gray" if a.arm == analysis.control else "tab:blue",
        )
    ax.set_xticks(range(len(arms)), [f"{a.arm}\n({a.users} users)" for a in arms])
    ax.set_xlim(-0.5, len(arms) - 0.5)
    ax.set_ylabel("acceptance rate")
    ax.set_title("Acceptance rate per arm (95% CI)")
    ax.grid(axis="y", alpha=0.3)
    return _bytes(fig, fmt)


def cumulative_lift_figure(daily: Sequence[DailyLift], *, fmt: str = "png") -> bytes:
    """Cumulative relative lift per day with the fixed-horizon CI and the always-valid (mSPRT) bounds."""
    if not daily:
        raise ValueError("no daily data to plot")
    import numpy as np
    from matplotlib import dates as mdates

    fig = _figure()
    ax = fig.add_subplot()
    for arm in dict.fromkeys(d.arm for d in daily):
        rows = [d for d in daily if d.arm == arm]
        x = np.array([np.datetime64(d.day) for d in rows])
        est = np.array([d.estimate for d in rows])
        ax.plot(x, est, marker="o", label=f"{arm}: lift")
        ax.fill_between(
            x,
            [d.ci_sequential[0] for d in rows],
            [d.ci_sequential[1] for d in rows],
            alpha=0.15,
            label=f"{arm}: always-valid 95% CI",
        )
        ax.plot(x, [d.ci_fixed[0] for d in rows], ls="--", lw=0.8, color="gray")
        ax.plot(x, [d.ci_fixed[1] for d in rows], ls="--", lw=0.8, color="gray")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("relative lift in acceptance")
    ax.set_title("Cumulative lift (dashed: fixed-horizon CI)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, len({d.day for d in daily}) // 10)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    fig.autofmt_xdate()
    return _bytes(fig, fmt)
