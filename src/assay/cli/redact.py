"""``assay redact FILE``: show what the gateway would send upstream for a file.

Prints the file with every secret replaced by its placeholder (``<ASSAY_SECRET_1>``, …); ``--json``
prints the findings instead, ``[{"kind", "line", "column", "placeholder"}]`` (1-based line and column
of the secret's first character), never the secrets. ``-`` reads standard input. Exit code 0 either
way (a file with secrets is not an error), 2 when the file cannot be read.

The integrator wires it into the main app with ``app.command("redact")(redact_command)``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from assay.cli.common import fail


def _read(file: Path) -> str:
    if str(file) == "-":
        return sys.stdin.read()
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail(f"{file} does not exist") from None
    except IsADirectoryError:
        raise fail(f"{file} is a directory, not a file") from None
    except UnicodeDecodeError:
        raise fail(f"{file} is not UTF-8 text") from None
    except OSError as exc:
        raise fail(f"{file} cannot be read: {exc.strerror}") from None


def redact_command(
    file: Annotated[Path, typer.Argument(help="File to redact ('-' for standard input).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the findings (kind, line, column, placeholder).")] = False,
) -> None:
    """Print FILE with its secrets replaced by placeholders, as the gateway sends it to a model."""
    from assay.pipeline.redact import redact_text

    result = redact_text(_read(file))
    if json_out:
        typer.echo(json.dumps([asdict(f) for f in result.findings], indent=2))
    else:
        sys.stdout.write(result.text)
        sys.stdout.flush()
