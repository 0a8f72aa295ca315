"""``assay eval`` and ``assay report``: thin typer commands over ``assay.eval``.

The integrator wires them into the main app::

    app.command("eval")(eval_command)
    app.command("report")(report_command)

(or ``app.add_typer(eval_app)``, which holds both).
"""

from __future__ import annotations

import asyncio
import json
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from assay.cli.common import ConfigOpt, JsonOpt, RunDbOpt, err_console, fail, quiet_transformers
from assay.errors import AssayError

eval_app = typer.Typer(help="Evaluate models on benchmarks and report stored runs.", no_args_is_help=True,
                       pretty_exceptions_enable=False)
console = Console()


def _parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(k) for k in text.split(",") if k.strip()}))
    except ValueError:
        raise fail(f"--k must be comma-separated integers, got {text!r}") from None
    if not ks or ks[0] < 1:
        raise fail(f"--k values must be positive integers, got {text!r}")
    return ks


def _parse_price(text: str | None):  # noqa: ANN202 - assay.config.ModelCost | None, imported lazily
    """``PROMPT_PER_1K,COMPLETION_PER_1K[,CURRENCY]`` → ``ModelCost``."""
    if text is None:
        return None
    from pydantic import ValidationError

    from assay.config import ModelCost

    parts = [x.strip() for x in text.split(",")]
    if len(parts) not in (2, 3):
        raise fail(f"--price takes PROMPT_PER_1K,COMPLETION_PER_1K[,CURRENCY], got {text!r}")
    try:
        return ModelCost(prompt_per_1k=parts[0], completion_per_1k=parts[1],
                         **({"currency": parts[2]} if len(parts) == 3 else {}))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise fail(f"--price {err['loc'][0]}: {err['msg']}, got {text!r}") from None


def _parse_options(pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        if "=" not in pair:
            raise fail(f"--option takes KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        lowered = value.lower()
        out[key.strip()] = True if lowered == "true" else False if lowered == "false" else (
            int(value) if value.lstrip("-").isdigit() else value)
    return out


def eval_command(
    task: Annotated[str | None, typer.Argument(help="Task name (see --list).")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="A model configured in assay.yaml; with --via-gateway, one the gateway serves (default: the model the gateway reports: its only model on /v1/models, else the one its answers name).")] = None,
    via_gateway: Annotated[str | None, typer.Option("--via-gateway", help="URL of a running assay gateway.")] = None,
    gateway_api: Annotated[str, typer.Option("--gateway-api", help="openai (/v1/completions) or gitlab (/v2/code/completions).")] = "openai",
    gateway_key_env: Annotated[str | None, typer.Option("--gateway-key-env", help="Environment variable holding the gateway's bearer token.")] = None,
    price: Annotated[str | None, typer.Option("--price", help="PROMPT_PER_1K,COMPLETION_PER_1K[,CURRENCY] token prices for cost per request (default: the model's configured cost; needed with --via-gateway).")] = None,
    samples: Annotated[Path | None, typer.Option("--samples", help="Score a JSONL of task_id + completion instead of generating.")] = None,
    reference: Annotated[bool, typer.Option("--reference", help="Score the tasks' canonical solutions (checks data and sandbox).")] = False,
    n: Annotated[int, typer.Option("--n", min=1, help="Samples per problem.")] = 1,
    k: Annotated[str, typer.Option("--k", help="pass@k values, e.g. 1,10,100.")] = "1,10,100",
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, max=2.0)] = 0.0,
    top_p: Annotated[float, typer.Option("--top-p", min=0.0, max=1.0)] = 1.0,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Default: the task's.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N problems.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Samples in flight at once.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Base seed of sampled generations.")] = 0,
    data: Annotated[str | None, typer.Option("--data", help="Task data file (or repository for repo-fim).")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-O", help="Task option KEY=VALUE (repeatable).")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Default: derived from the settings, so reruns resume.")] = None,
    db: RunDbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    list_tasks: Annotated[bool, typer.Option("--list", help="List the tasks and exit.")] = False,
) -> None:
    """Evaluate a model (in-process pipeline, a running gateway, or a samples file) on a benchmark task."""
    from assay.eval.tasks import get_task, task_help

    if list_tasks or task is None:
        if as_json:
            typer.echo(json.dumps(task_help(), indent=2))
            return
        for name, text in task_help().items():
            console.print(f"[bold]{name}[/]  {escape(text)}", soft_wrap=True, highlight=False)
        return
    sources = [x for x in (samples is not None, via_gateway is not None, reference) if x]
    if len(sources) > 1:
        raise fail("choose one of --samples, --via-gateway and --reference")
    ks = _parse_ks(k)
    if price is not None and (samples is not None or reference):
        raise fail("--price applies to --model and --via-gateway runs; --samples and --reference have no token counts")
    try:
        result = _run(task, model, via_gateway, (gateway_api, gateway_key_env), samples, reference, n, ks, temperature, top_p,
                      max_tokens, limit, workers, seed, data, _parse_options(option or []), run_id, db, config,
                      as_json, get_task, _parse_price(price))
    except AssayError as exc:
        raise fail(exc.message) from None
    except KeyboardInterrupt:
        raise _interrupted("interrupted before any sample was scored: nothing saved") from None
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        from assay.eval.report import print_table

        print_table([result], console)
        console.print(f"run id: [bold]{result.run_id}[/] (assay report {result.run_id})")


def _interrupted(line: str) -> typer.Exit:
    """Print the one line a Ctrl-C'd evaluation ends with on stderr and return exit 130 (128 + SIGINT, the
    shell's convention) for the caller to raise, so scripts see the run did not finish."""
    err_console.print(line, soft_wrap=True, highlight=False, markup=False, emoji=False)
    return typer.Exit(130)


def _saved_line(store, run_id: str, total: int | None) -> str:  # noqa: ANN001 - RunStore
    """``interrupted: N of M samples saved in DB (run ...); rerun the same command to resume``: every
    scored sample is flushed before the run stops, and a rerun skips them."""
    from assay.store.urls import sqlite_file

    saved = len(store.done(run_id))
    of = f" of {total}" if total is not None else ""
    where = sqlite_file(store.url) or store.url
    return f"interrupted: {saved}{of} samples saved in {where} (run {run_id}); rerun the same command to resume"


def _run(task_name, model, via_gateway, gateway_api, samples, reference, n, ks, temperature, top_p, max_tokens,  # noqa: ANN001, ANN202, PLR0913
         limit, workers, seed, data, options, run_id, db, config, as_json, get_task, price=None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from assay.eval.generate import GatewayGenerator, PipelineGenerator, ReferenceGenerator, SamplesFile
    from assay.eval.runner import EvalOptions, default_run_id, run_eval
    from assay.eval.store import RunStore

    if data is not None:
        options = {"path": data, **options}
    task = get_task(task_name, **options)
    if samples is not None:
        generator = SamplesFile(samples)
    elif reference:
        generator = ReferenceGenerator()
    elif via_gateway is not None:
        import os

        api, key_env = gateway_api
        if api not in ("openai", "gitlab"):
            raise fail(f"--gateway-api must be openai or gitlab, got {api!r}")
        if key_env and not os.environ.get(key_env):
            raise fail(f"--gateway-key-env names {key_env}, which is not set")
        generator = GatewayGenerator(via_gateway, model=model, api=api,
                                     api_key=os.environ.get(key_env) if key_env else None, price=price)
        asyncio.run(generator.resolve_model())
    else:
        from assay.config import load_settings

        generator = PipelineGenerator(load_settings(config), model)
        if price is not None:
            generator.price = price
    opts = EvalOptions(n=n, temperature=temperature, top_p=top_p, max_tokens=max_tokens, limit=limit,
                       workers=workers, seed=seed, ks=ks)
    quiet = quiet_transformers() if isinstance(generator, PipelineGenerator) else nullcontext()
    store = RunStore(db)
    totals: list[int] = []
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err_console, disable=as_json, transient=False) as bar, quiet:
            bar_id = bar.add_task(task.name, total=None)

            def progress(done: int, total: int) -> None:
                totals[:] = [total]
                bar.update(bar_id, completed=done, total=total)

            return asyncio.run(run_eval(task, generator, store, opts, run_id=run_id, progress=progress))
    except KeyboardInterrupt:
        line = _saved_line(store, run_id or default_run_id(task, generator, opts), totals[0] if totals else None)
        raise _interrupted(line) from None
    finally:
        store.close()


def report_command(
    runs: Annotated[list[str], typer.Argument(help="Run id(s) printed by assay eval.")],
    db: RunDbOpt = None,
    html: Annotated[Path | None, typer.Option("--html", help="HTML file to write (default assay-report-<run>.html; one run).")] = None,
    no_html: Annotated[bool, typer.Option("--no-html", help="Only print the table.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Print a stored run's scores (± 95 % CI) and write a self-contained HTML report."""
    from assay.eval.report import load_report, print_table, write_html
    from assay.eval.store import RunStore

    if html is not None and len(runs) > 1:
        raise fail("--html names one file; give one run, or leave --html out")
    try:
        store = RunStore(db, read_only=True)
        try:
            reports = [load_report(r, store) for r in runs]
        finally:
            store.close()
    except AssayError as exc:
        raise fail(exc.message) from None
    written = []
    if not no_html:
        for rep in reports:
            written.append(str(write_html(rep, html or Path(f"assay-report-{rep.run.id}.html"))))
    if as_json:
        typer.echo(json.dumps([rep.result.as_dict() | {"html": path} for rep, path in
                                       zip(reports, written or [None] * len(reports), strict=True)]))
        return
    print_table([rep.result for rep in reports], console)
    for path in written:
        console.print(f"HTML report: {path}")


eval_app.command("eval")(eval_command)
eval_app.command("report")(report_command)
