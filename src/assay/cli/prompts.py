"""``assay prompts list|show|render``: browse and try the prompt registry without a server.

The integrator wires it into the main app with ``app.add_typer(prompts_app, name="prompts")``.
``--dir`` points at another definitions folder (``<feature>/<family>/<X.Y.Z>.yml``), which also
validates it: an invalid file is reported with its path and field, exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from assay.cli.common import JsonOpt, fail
from assay.errors import AssayError

prompts_app = typer.Typer(help="List, show and render the versioned feature prompts.", no_args_is_help=True,
                          pretty_exceptions_enable=False)
console = Console()

DirOpt = Annotated[Path | None, typer.Option("--dir", help="Prompt definitions folder (default: the shipped prompts).")]
FamilyOpt = Annotated[str | None, typer.Option("--family", "-f", help="Model family (base, small, ...).")]
VersionOpt = Annotated[str, typer.Option("--version", "-v", help="Semver constraint, e.g. ^1.0.0, ~1.2, 1.0.0.")]


def _registry(folder: Path | None):  # noqa: ANN202
    from assay.prompts import PromptRegistry, default_registry

    return PromptRegistry.load(folder) if folder is not None else default_registry()


def _resolve(feature: str, family: str | None, version: str, folder: Path | None):  # noqa: ANN202
    """The prompt for FEATURE; an unknown ``--family`` is an error listing the known ones, not ``base``."""
    registry = _registry(folder)
    if family is not None:
        registry.require_family(family)
    return registry.resolve(feature, family, constraint=version)


def _parse_inputs(pairs: list[str], inputs_json: Path | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if inputs_json is not None:
        text = typer.get_text_stream("stdin").read() if str(inputs_json) == "-" else inputs_json.read_text()
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise fail(f"--inputs-json {inputs_json}: not valid JSON ({exc.msg})") from None
        if not isinstance(loaded, dict):
            raise fail(f"--inputs-json {inputs_json}: expected a JSON object of inputs")
        values.update(loaded)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise fail(f"--input takes NAME=VALUE or NAME=@FILE, got {pair!r}")
        if value.startswith("@"):
            path = Path(value[1:])
            if not path.is_file():
                raise fail(f"--input {name}: file {path} does not exist")
            value = path.read_text(encoding="utf-8", errors="replace")
        values[name.strip()] = value
    return values


@prompts_app.command("list")
def list_command(folder: DirOpt = None, as_json: JsonOpt = False) -> None:
    """Every prompt: feature, family, versions, the unit primitives it needs."""
    try:
        registry = _registry(folder)
    except AssayError as exc:
        raise fail(exc.message) from None
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for p in sorted(registry.prompts(), key=lambda p: (p.feature, p.family, p.version)):
        row = rows.setdefault((p.feature, p.family), {"feature": p.feature, "family": p.family, "versions": [],
                                                      "name": p.data.name, "unit_primitives": []})
        row["versions"].append(str(p.version))
        row["name"], row["unit_primitives"] = p.data.name, list(p.data.unit_primitives)
    if as_json:
        typer.echo(json.dumps(list(rows.values()), indent=2))
        return
    from rich.table import Table

    table = Table(title="prompts")
    for col in ("feature", "family", "versions", "unit primitives", "name"):
        table.add_column(col)
    for r in rows.values():
        table.add_row(r["feature"], r["family"], ", ".join(r["versions"]), ", ".join(r["unit_primitives"]), r["name"])
    console.print(table)


@prompts_app.command("show")
def show_command(feature: Annotated[str, typer.Argument(help="Feature id, e.g. explain_code.")],
                 family: FamilyOpt = None, version: VersionOpt = "^1.0.0", folder: DirOpt = None,
                 as_json: JsonOpt = False) -> None:
    """The prompt file that a request for FEATURE (and family, version constraint) resolves to."""
    try:
        prompt = _resolve(feature, family, version, folder)
    except AssayError as exc:
        raise fail(exc.message) from None
    if as_json:
        typer.echo(json.dumps({"id": prompt.id, "feature": prompt.feature, "family": prompt.family,
                               "version": str(prompt.version), "path": str(prompt.path),
                               **prompt.data.model_dump(mode="json")}, indent=2))
        return
    console.print(f"[bold]{prompt.id}[/] {prompt.version}  ({prompt.path})", highlight=False)
    typer.echo(prompt.path.read_text(encoding="utf-8"))


@prompts_app.command("render")
def render_command(feature: Annotated[str, typer.Argument(help="Feature id, e.g. generate_commit_message.")],
                   input: Annotated[list[str] | None, typer.Option("--input", "-i", help="NAME=VALUE or NAME=@FILE (repeatable).")] = None,
                   inputs_json: Annotated[Path | None, typer.Option("--inputs-json", help="A JSON object of inputs; - reads stdin.")] = None,
                   family: FamilyOpt = None, version: VersionOpt = "^1.0.0", folder: DirOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Render FEATURE's prompt with the given inputs: the exact messages a chat model would receive."""
    values = _parse_inputs(input or [], inputs_json)
    try:
        rendered = _resolve(feature, family, version, folder).render(values)
    except AssayError as exc:
        raise fail(exc.message) from None
    if as_json:
        typer.echo(json.dumps({"feature": rendered.feature, "family": rendered.family, "version": rendered.version,
                               "messages": [{"role": m.role, "content": m.content} for m in rendered.messages],
                               "params": {"temperature": rendered.params.temperature,
                                          "max_tokens": rendered.params.max_tokens, "top_p": rendered.params.top_p,
                                          "stop": list(rendered.params.stop)},
                               "unit_primitives": list(rendered.unit_primitives)}, indent=2))
        return
    console.print(f"[bold]{rendered.feature}/{rendered.family}[/] {rendered.version}", highlight=False)
    for m in rendered.messages:
        console.print(f"[bold cyan]\\[{m.role}][/]", highlight=False)
        typer.echo(m.content)
