"""The ``assay`` command line. Commands are thin: they parse options and call the layers below.

Heavy imports (torch, transformers, the server) happen inside commands so ``assay --help`` is instant.
Every command fails through :func:`assay.cli.common.fail` (exit 2); exit 1 is kept for findings
(``models probe``, ``audit --verify``), as :mod:`assay.cli.common` lists.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from assay import __version__
from assay.cli.common import ConfigOpt, JsonOpt, err_console, fail
from assay.errors import AssayError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assay.pipeline.engine import Engine

app = typer.Typer(
    name="assay",
    help="Serve, evaluate and train code-completion models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="List, probe and register models.", no_args_is_help=True)
app.add_typer(models_app, name="models")

console = Console()

R = TypeVar("R")


def _settings(config: Path | None, **server: Any):
    from assay.config import load_settings

    try:
        settings = load_settings(config)
    except AssayError as exc:
        raise fail(exc.message) from None
    updates = {k: v for k, v in server.items() if v is not None}
    if updates:
        settings.server = settings.server.model_copy(update=updates)
    return settings


def _run_started(make: Callable[[], Any], call: Callable[[Any], Awaitable[R]]) -> R:
    """In a fresh event loop: build a startable resource (an Engine or a Provider) with ``make``, start it,
    await ``call(resource)`` and close it; an ``AssayError`` on the way is the command's one-line error."""

    async def run() -> R:
        resource = make()
        await resource.start()
        try:
            return await call(resource)
        finally:
            await resource.close()

    try:
        return asyncio.run(run())
    except AssayError as exc:
        raise fail(exc.message) from None


@app.command()
def version() -> None:
    """Print assay's version."""
    console.print(__version__)


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 5052, GitLab's self-hosted gateway port).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Local single-user mode: no credentials required.")] = False,
) -> None:
    """Start the gateway (OpenAI-, GitLab AI Gateway- and llama.cpp-compatible APIs).

    The port is bound and every model started before the server accepts requests, so a taken port or a
    model that cannot load ends the command with a one-line error.
    """
    from assay.pipeline.engine import Engine
    from assay.server.app import create_app

    settings = _settings(config, host=host, port=port)
    if no_auth:
        settings.auth = settings.auth.model_copy(update={"mode": "none"})
    sock = _listen(settings.server.host, settings.server.port)
    if settings.auth.mode == "none":
        err_console.print("[bold red]WARNING: authentication is OFF (--no-auth):[/] anyone who can reach "
                          f"{settings.server.host}:{settings.server.port} may use every endpoint. Local use only.",
                          soft_wrap=True)
    names = ", ".join(f"{m.name} ({m.provider})" for m in settings.models)
    err_console.print(f"assay {__version__}: starting {names} on http://{settings.server.host}:{settings.server.port}",
                      soft_wrap=True)
    try:
        engine = Engine(settings)
        started = asyncio.run(_serve(create_app(settings, engine), engine, sock, log_level))
    except AssayError as exc:
        raise fail(exc.message) from None
    except KeyboardInterrupt:
        return
    finally:
        sock.close()
    if not started:
        raise fail("the gateway did not start; uvicorn's log above says why")


def _listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port``; the command's one-line error when that address cannot be bound.

    The socket is made with ``IPPROTO_TCP`` explicitly: asyncio turns Nagle's algorithm off (TCP_NODELAY)
    only on connections whose socket says so, and ``socket.create_server`` leaves the protocol 0, which
    cost every response ~40 ms of delayed-ACK wait.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
        return sock
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = os.strerror(exc.errno) if getattr(exc, "errno", None) else str(exc)
        raise fail(f"cannot listen on {host}:{port}: {reason} (choose another with --port or server.port)") from None


async def _serve(app: FastAPI, engine: Engine, sock: socket.socket, log_level: str) -> bool:
    """Start ``engine`` (the app's lifespan then finds it started), serve ``app`` on ``sock`` until a
    signal; whether the server started."""
    import uvicorn

    await engine.start()
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on"))
    await server.serve(sockets=[sock])
    return server.started


def _parse_cursor(location: str) -> tuple[Path, int, int]:
    parts = location.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise fail(f"expected FILE:LINE:COL (1-based line and column), got '{location}'")
    path, line, col = Path(parts[0]), int(parts[1]), int(parts[2])
    if line < 1 or col < 1:
        raise fail("LINE and COL are 1-based and must be at least 1")
    return path, line, col


def split_at_cursor(text: str, line: int, col: int) -> tuple[str, str]:
    """Split ``text`` at a 1-based line and column; raise a clear error when they are out of range."""
    lines = text.splitlines(keepends=True) or [""]
    if line > len(lines) + (1 if text.endswith("\n") else 0):
        raise fail(f"line {line} is past the end of the file ({len(lines)} lines)")
    offset = sum(len(x) for x in lines[: line - 1])
    current = lines[line - 1] if line - 1 < len(lines) else ""
    width = len(current.rstrip("\r\n"))
    if col - 1 > width:
        raise fail(f"column {col} is past the end of line {line} ({width} characters)")
    cut = offset + col - 1
    return text[:cut], text[cut:]


@app.command()
def complete(
    location: Annotated[str, typer.Argument(help="FILE:LINE:COL of the cursor (1-based).")],
    model: Annotated[str | None, typer.Option(help="Configured model name (default: the code_completions one).")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Maximum new tokens.")] = None,
    trace: Annotated[bool, typer.Option("--trace", help="Show every pipeline stage.")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the suggestion the gateway would give at a cursor position."""
    from assay.pipeline.engine import Engine
    from assay.pipeline.types import CompletionInput, RequestOverrides

    path, line, col = _parse_cursor(location)
    if not path.is_file():
        raise fail(f"{path} is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise fail(f"{path} is not UTF-8 text") from None
    prefix, suffix = split_at_cursor(text, line, col)
    settings = _settings(config)
    inp = CompletionInput(prefix=prefix, suffix=suffix, file_name=path.name, model=model,
                          overrides=RequestOverrides(max_tokens=max_tokens))
    result = _run_started(lambda: Engine(settings), lambda engine: engine.complete(inp))
    suggestion = result.choices[0].text if result.choices else ""
    if as_json:
        out = {"suggestion": suggestion, "model": result.model, "language": result.language,
               "usage": {"prompt_tokens": result.usage.prompt_tokens,
                         "completion_tokens": result.usage.completion_tokens}}
        if trace:
            out["trace"] = result.trace.as_dict()
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return
    if trace:
        _print_trace(result.trace)
    if suggestion:
        console.print(suggestion, markup=False, highlight=False)
    else:
        err_console.print("(no suggestion)")


def _print_trace(trace) -> None:
    from rich.panel import Panel
    from rich.table import Table

    err_console.print(f"[bold]trace[/] {trace.id}  model={trace.model}  language={trace.language}  "
                      f"prompt_tokens={trace.prompt_tokens}")
    if trace.context:
        table = Table("file", "lines", "score", "tokens", title="context chosen")
        for c in trace.context:
            table.add_row(str(c.get("file")), f"{c.get('start_line')}-{c.get('end_line')}",
                          f"{c.get('score', 0):.3f}", str(c.get("tokens")))
        err_console.print(table)
    err_console.print(Panel(trace.prompt, title="prompt sent", expand=False), markup=False)
    for i, raw in enumerate(trace.raw_outputs):
        err_console.print(Panel(raw, title=f"raw model output #{i}", expand=False), markup=False)
    for step in trace.postprocess:
        err_console.print(f"post-process [cyan]{step.get('step')}[/] (choice {step.get('choice')}) removed: "
                          f"{step.get('removed')!r}")
    timings = "  ".join(f"{t.stage}={t.ms:.1f}ms" for t in trace.timings)
    err_console.print(f"timings: {timings}")


@models_app.command("list")
def models_list(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """List the configured models and the spec each one uses."""
    from assay.providers.registry import model_id
    from assay.specs.registry import spec_for

    settings = _settings(config)
    rows = []
    for m in settings.models:
        try:
            family = spec_for(m.spec, model_id(m)).family
        except AssayError as exc:
            family = f"error: {exc.message}"
        rows.append({"name": m.name, "provider": m.provider, "source": m.path or m.base_url or m.upstream_model,
                     "spec": family})
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    from rich.table import Table

    table = Table("name", "provider", "source", "spec")
    for r in rows:
        table.add_row(r["name"], r["provider"], str(r["source"]), r["spec"])
    console.print(table)


@models_app.command("probe")
def models_probe(
    name: Annotated[str, typer.Argument(help="Configured model to probe.")],
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send known fill-in-the-middle cases to a model and report whether it really fills the middle."""
    from assay.providers.probe import probe
    from assay.providers.registry import create_provider

    settings = _settings(config)
    result = _run_started(lambda: create_provider(settings.model(name)), probe)
    data = result.as_dict() if hasattr(result, "as_dict") else result.__dict__
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        console.print_json(json.dumps(data, default=str))
    if not data.get("fills_middle", data.get("ok", False)):
        raise typer.Exit(1)


def _register_command_groups() -> None:
    """Attach every pillar's commands. Each module keeps its heavy imports inside its commands."""
    from assay.cli.audit import audit_command
    from assay.cli.data import data_app
    from assay.cli.eval import eval_command, report_command
    from assay.cli.export import export, register
    from assay.cli.keys import keys_app
    from assay.cli.lora import lora_command
    from assay.cli.mine import judge_agreement_command, mine_ci_logs_command, mine_commits_command
    from assay.cli.prompts import prompts_app
    from assay.cli.redact import redact_command
    from assay.cli.stats import compare_command, experiment_app
    from assay.cli.train import train_app

    train_app.command("lora")(lora_command)
    data_app.command("mine-commits")(mine_commits_command)
    data_app.command("mine-ci-logs")(mine_ci_logs_command)
    data_app.command("judge-agreement")(judge_agreement_command)
    models_app.command("register")(register)
    app.add_typer(train_app, name="train")
    app.add_typer(data_app, name="data")
    app.add_typer(prompts_app, name="prompts")
    app.add_typer(keys_app, name="keys")
    app.add_typer(experiment_app, name="experiment")
    app.command("export")(export)
    app.command("eval")(eval_command)
    app.command("report")(report_command)
    app.command("compare")(compare_command)
    app.command("redact")(redact_command)
    app.command("audit")(audit_command)


_register_command_groups()


def main() -> None:  # pragma: no cover - console entry point
    app()
