"""``assay data``: corpus building (``assay data build SOURCES... --out DIR``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer

from assay.cli.common import err_console, fail
from assay.errors import AssayError, ConfigError

data_app = typer.Typer(name="data", help="Build training corpora from local repositories.", no_args_is_help=True)


@data_app.callback()
def _data() -> None:
    """Build training corpora from local repositories."""


@data_app.command("build")
def build(
    sources: Annotated[list[Path], typer.Argument(help="Git repositories or folders (a folder of repositories is split into them).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Corpus folder: shards, manifest.json, .work/ markers.")],
    licenses: Annotated[str, typer.Option(help="'any', or 'permissive' to keep only permissively licensed files.")] = "any",
    val_fraction: Annotated[float, typer.Option(help="Share of repositories held out for validation.")] = 0.1,
    language: Annotated[list[str] | None, typer.Option("--language", "-l", help="Keep only these language ids (repeatable).")] = None,
    tokenizer: Annotated[str | None, typer.Option(help="Tokenizer folder or tokenizer.json for exact token counts.")] = None,
    shard_mb: Annotated[float, typer.Option(help="Shard size in MB of text.")] = 64.0,
    no_decontaminate: Annotated[bool, typer.Option("--no-decontaminate", help="Keep files overlapping benchmarks.")] = False,
    dedup_threshold: Annotated[float, typer.Option(help="Jaccard similarity at which files count as near duplicates.")] = 0.85,
    max_line_length: Annotated[int, typer.Option(help="Files with a longer line are dropped as minified.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the train/validation split.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Rescan every repository, ignoring completion markers.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest summary as JSON.")] = False,
) -> None:
    """Build a deduplicated, decontaminated, license-tagged corpus; a rerun skips repositories already scanned."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from assay.train.corpus import BuildOptions, build_corpus
    from assay.train.corpus.dedup import DedupConfig
    from assay.train.corpus.filters import FilterLimits

    try:
        if not 0 < shard_mb < math.inf:
            raise ConfigError(f"--shard-mb must be a positive number of megabytes, got {shard_mb}")
        options = BuildOptions(licenses=licenses, val_fraction=val_fraction,  # type: ignore[arg-type]
                               shard_bytes=max(1, int(shard_mb * 1024 * 1024)), decontaminate=not no_decontaminate,
                               dedup=DedupConfig(threshold=dedup_threshold),
                               limits=FilterLimits(max_line_length=max_line_length),
                               languages=tuple(language or ()), tokenizer=tokenizer, seed=seed)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err_console, transient=True,
                      disable=as_json or not err_console.is_terminal) as bar:
            tasks: dict[str, int] = {}

            def hook(repo: str, done: int, total: int) -> None:
                if repo not in tasks:
                    tasks[repo] = bar.add_task(f"scan {repo}", total=total)
                bar.update(tasks[repo], completed=done)

            result = build_corpus(sources, out, options, progress=hook, force=force)
    except AssayError as exc:
        raise fail(exc.message) from None
    summary = result.manifest.summary() | {"out": str(out), "scanned": list(result.scanned),
                                           "skipped": list(result.skipped)}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    m = result.manifest
    err_console.print(f"scanned {len(result.scanned)} repositories, reused {len(result.skipped)}")
    typer.echo(f"{m.files} files, {m.bytes} bytes, {m.tokens} tokens ({m.token_count}) in {len(m.shards)} shards → {out}")
    typer.echo("languages: " + ", ".join(f"{k} {v.files}" for k, v in sorted(m.languages.items())))
    typer.echo("licenses: " + ", ".join(f"{k} {v}" for k, v in m.licenses.items()))
    typer.echo("removed: " + (", ".join(f"{k} {v}" for k, v in m.removed.items()) or "nothing"))
    typer.echo(f"decontamination: {sum(m.contaminated.values())} files dropped"
               + (f" ({', '.join(f'{k} {v}' for k, v in m.contaminated.items())})" if m.contaminated else ""))
    if m.files == 0:
        err_console.print(empty_corpus_warning(m.files_seen, m.removed), soft_wrap=True, highlight=False)


def empty_corpus_warning(files_seen: int, removed: dict[str, int]) -> str:
    """Why a corpus came out empty, with the license hint only where the license filter removed files."""
    message = f"warning: the corpus is empty: all {files_seen} files seen were removed (see 'removed')"
    if removed.get("license"):
        message += "; files without a detected permissive license are kept only with --licenses any"
    if removed.get("language_not_selected"):
        message += "; --language keeps only the languages named"
    return message
