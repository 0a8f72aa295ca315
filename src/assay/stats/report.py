"""The decision report: offline comparisons and the online experiment in one Markdown and one HTML file.

``build_sections`` turns results into neutral sections (paragraphs, tables, figures);
``render_markdown`` and ``render_html`` render them. ``write_report`` writes ``<stem>.md`` with its
figures as ``<stem>-<figure>.png`` beside it, and ``<stem>.html`` with the figures embedded as data
URIs, so the HTML file is self-contained.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from pathlib import Path

from assay.stats.compare import Comparison
from assay.stats.experiment import DailyLift, ExperimentAnalysis
from assay.stats.guardrails import Guardrail


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    html: Path
    figures: list[Path]


def _num(x: float | None, digits: int = 4) -> str:
    return "–" if x is None or x != x else f"{x:.{digits}g}"


def _pct(x: float) -> str:
    return "–" if x != x else f"{x:+.2%}"


def _ci(ci: tuple[float, float], pct: bool = False) -> str:
    return f"[{_pct(ci[0])}, {_pct(ci[1])}]" if pct else f"[{_num(ci[0])}, {_num(ci[1])}]"


def _p(p: float) -> str:
    return "–" if p != p else ("<0.0001" if p < 1e-4 else f"{p:.4f}")


def _frontier(on: bool | None) -> str:
    return "n/a" if on is None else "yes" if on else "no"


def _guardrail_row(g: Guardrail) -> list[str]:
    fmt = _pct if g.relative else _num
    ci = _ci(g.ci, pct=g.relative)
    return [
        g.name,
        _num(g.control),
        _num(g.treatment),
        fmt(g.estimate),
        ci,
        fmt(g.margin),
        _p(g.p_adjusted),
        g.status,
    ]


def _online(analysis: ExperimentAnalysis, daily: list[DailyLift] | None) -> list[Section]:
    srm = analysis.srm
    verdict = Section(
        f"Verdict: {analysis.verdict.value}",
        paragraphs=[f"Experiment **{analysis.name}**, control arm `{analysis.control}`."],
        bullets=list(analysis.reasons),
    )
    arms = Table(
        [
            "arm",
            "users",
            "shown",
            "accepted",
            "acceptance",
            "95% CI",
            "latency p95 (ms)",
            "error rate",
            "cost/user",
        ],
        [
            [
                a.arm,
                str(a.users),
                f"{a.shown:g}",
                f"{a.accepted:g}",
                _num(a.acceptance_rate),
                _ci(a.ci),
                _num(a.latency_p95),
                _num(a.error_rate),
                _num(a.cost_per_user),
            ]
            for a in analysis.arms
        ],
    )
    if math.isnan(srm.statistic):
        srm_text = f"Sample ratio check: not possible yet; users {srm.observed}."
    else:
        srm_text = (
            f"Sample ratio check: chi-square {srm.statistic:.3g}, p = {_p(srm.p_value)} "
            f"({'MISMATCH' if srm.mismatch else 'no mismatch'}); users {srm.observed}."
        )
    lifts = Table(
        [
            "arm",
            "lift (fixed)",
            "95% CI (Welch)",
            "p",
            "lift (CUPED)",
            "95% CI (CUPED)",
            "always-valid 95% CI",
            "always-valid p",
            "verdict",
        ],
        [
            [
                c.arm,
                _pct(c.lift.estimate),
                _ci(c.lift.ci, True),
                _p(c.lift.p_value),
                _pct(c.lift_cuped.estimate) if c.lift_cuped else "–",
                _ci(c.lift_cuped.ci, True) if c.lift_cuped else "–",
                _ci(c.lift_sequential.ci, True),
                _p(c.lift_sequential.p_value),
                c.verdict.value,
            ]
            for c in analysis.comparisons
        ],
    )
    guard_tables = [
        Table(
            ["guardrail", "control", "treatment", "change", "95% CI", "margin", "Holm p", "status"],
            [_guardrail_row(g) for g in c.guardrails],
        )
        for c in analysis.comparisons
    ]
    figures = ["arm_rates"] + (["cumulative_lift"] if daily else [])
    if not analysis.comparisons:  # nothing to compare yet: no empty lift table, no bare guardrails heading
        return [verdict, Section("Online experiment", paragraphs=[srm_text, "No arm can be compared with the "
                                                                   "control yet: no lifts or guardrails."],
                                 tables=[arms], figures=figures)]
    return [
        verdict,
        Section("Online experiment", paragraphs=[srm_text], tables=[arms, lifts], figures=figures),
        Section("Guardrails (non-inferiority, Holm across guardrails)", tables=guard_tables),
    ]


def _offline(comparison: Comparison) -> list[Section]:
    sections = []
    for pair in comparison.pairs:
        table = Table(
            [
                "metric",
                "subgroup",
                "n",
                "A",
                "B",
                "B − A",
                "95% CI",
                "bootstrap CI",
                "test",
                "p",
                "Holm",
                "BH",
                "corr",
                "MDD",
            ],
            [
                [
                    m.metric,
                    m.subgroup,
                    str(m.n),
                    _num(m.a),
                    _num(m.b),
                    _num(m.diff),
                    _ci(m.ci95),
                    _ci(m.bootstrap_ci95),
                    m.test,
                    _p(m.p_value),
                    _p(m.p_holm),
                    _p(m.p_bh),
                    _num(m.correlation, 2),
                    _num(m.mdd),
                ]
                for m in pair.metrics
            ],
        )
        note = f"A = `{pair.a}` (baseline, first run), B = `{pair.b}`; B − A is shown: {pair.n} shared problems"
        if pair.only_a or pair.only_b:
            note += f" ({pair.only_a} only in A, {pair.only_b} only in B, left out)"
        paragraphs = [note + "."]
        if pair.verdict is not None:
            paragraphs.append(f"**Verdict: {pair.verdict.outcome}.** {pair.verdict.reason}.")
        paragraphs += [f"MDD of {m.metric}: {m.mdd_note}." for m in pair.metrics if m.mdd is None and m.subgroup == "all"]
        described = sorted({m.metric for m in pair.metrics if not m.adjusted})
        if described:
            paragraphs.append(
                f"{', '.join(f'`{name}`' for name in described)} (share of non-empty outputs) is shown for context, "
                f"outside the Holm / BH family (–); test it with `--metric {described[0]}`."
            )
        needed = [f"{m.metric} {m.n_needed}" for m in pair.metrics if m.n_needed and m.subgroup == "all"]
        if needed:
            s = comparison.settings
            paragraphs.append(
                f"Problems needed to detect a difference of {s.delta:g} at power {s.power:g}: {', '.join(needed)}."
            )
        sections.append(Section(f"Offline: A = {pair.a} vs B = {pair.b}", paragraphs=paragraphs, tables=[table]))
    sections[0].figures.append("differences")
    if comparison.pareto:
        table = Table(
            ["run", comparison.pareto[0].metric, "latency (ms)", "cost", "on frontier"],
            [
                [p.run, _num(p.quality), _num(p.latency_ms), _num(p.cost), _frontier(p.on_frontier)]
                for p in comparison.pareto
            ],
        )
        unplaced = [p.run for p in comparison.pareto if p.on_frontier is None]
        paragraphs = (
            [f"n/a: {', '.join(f'`{r}`' for r in unplaced)} cannot be placed: "
             "its latency or cost is unknown while another run's is known."]
            if unplaced
            else []
        )
        sections.append(
            Section("Quality / latency / cost: Pareto frontier", paragraphs=paragraphs, tables=[table],
                    figures=["pareto"])
        )
    return sections


def build_sections(
    *,
    comparison: Comparison | None = None,
    experiment: ExperimentAnalysis | None = None,
    daily: list[DailyLift] | None = None,
) -> list[Section]:
    """Sections for whatever evidence is given (at least one of ``comparison`` and ``experiment``)."""
    if comparison is None and experiment is None:
        raise ValueError("a report needs an offline comparison, an online experiment, or both")
    sections: list[Section] = []
    if experiment is not None:
        sections += _online(experiment, daily)
    if comparison is not None:
        sections += _offline(comparison)
    return sections


def figures_for(
    sections: list[Section],
    *,
    comparison: Comparison | None,
    experiment: ExperimentAnalysis | None,
    daily: list[DailyLift] | None,
) -> dict[str, bytes]:
    """PNG bytes of every figure the sections name."""
    from assay.stats import plots

    wanted = {f for s in sections for f in s.figures}
    drawn: dict[str, bytes] = {}
    if "pareto" in wanted and comparison is not None:
        drawn["pareto"] = plots.pareto_figure(comparison.pareto)
    if "differences" in wanted and comparison is not None:
        drawn["differences"] = plots.differences_figure(comparison)
    if "arm_rates" in wanted and experiment is not None:
        drawn["arm_rates"] = plots.arm_rates_figure(experiment)
    if "cumulative_lift" in wanted and daily:
        drawn["cumulative_lift"] = plots.cumulative_lift_figure(daily)
    return drawn


def render_markdown(title: str, sections: list[Section], figure_paths: dict[str, str]) -> str:
    lines = [f"# {title}", ""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        for p in s.paragraphs:
            lines += [p, ""]
        if s.bullets:
            lines += [f"- {b}" for b in s.bullets] + [""]
        for t in s.tables:
            lines.append("| " + " | ".join(t.headers) + " |")
            lines.append("|" + "---|" * len(t.headers))
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in t.rows]
            lines.append("")
        for f in s.figures:
            if f in figure_paths:
                lines += [f"![{f}]({figure_paths[f]})", ""]
    return "\n".join(lines)


def _inline(text: str) -> str:
    escaped = html.escape(text)
    parts = escaped.split("**")
    escaped = "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))
    parts = escaped.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def render_html(title: str, sections: list[Section], figures: dict[str, bytes]) -> str:
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px}"
        "th{background:#f4f4f4}img{max-width:100%}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for s in sections:
        out.append(f"<h2>{_inline(s.title)}</h2>")
        out += [f"<p>{_inline(p)}</p>" for p in s.paragraphs]
        if s.bullets:
            out.append("<ul>" + "".join(f"<li>{_inline(b)}</li>" for b in s.bullets) + "</ul>")
        for t in s.tables:
            out.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in t.headers) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in t.rows]
            out.append("</table>")
        for f in s.figures:
            if f in figures:
                data = base64.b64encode(figures[f]).decode("ascii")
                out.append(f'<img alt="{f}" src="data:image/png;base64,{data}">')
    out.append("</body></html>")
    return "\n".join(out)


def write_report(
    stem: str | Path,
    *,
    title: str = "assay decision report",
    comparison: Comparison | None = None,
    experiment: ExperimentAnalysis | None = None,
    daily: list[DailyLift] | None = None,
) -> ReportFiles:
    """Write ``<stem>.md`` (+ PNG figures beside it) and a self-contained ``<stem>.html``."""
    base = Path(stem)
    if base.suffix in (".md", ".html"):
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    sections = build_sections(comparison=comparison, experiment=experiment, daily=daily)
    figures = figures_for(sections, comparison=comparison, experiment=experiment, daily=daily)
    paths = []
    links = {}
    for name, data in figures.items():
        path = base.parent / f"{base.name}-{name}.png"
        path.write_bytes(data)
        paths.append(path)
        links[name] = path.name
    md = base.parent / f"{base.name}.md"
    md.write_text(render_markdown(title, sections, links), encoding="utf-8")
    page = base.parent / f"{base.name}.html"
    page.write_text(render_html(title, sections, figures), encoding="utf-8")
    return ReportFiles(markdown=md, html=page, figures=paths)
