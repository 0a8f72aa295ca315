"""Render a fill-in-the-middle prompt from a model spec: the one place the FIM layout is decided.

Layouts, by ``spec.fim.mode`` (``P``/``S``/``M`` are ``spec.fim.prefix``/``suffix``/``middle``)::

    psm   P + prefix + S + suffix + M        e.g. <fim_prefix>def f(<fim_suffix>)<fim_middle>
    spm   S + suffix + P + prefix + M        e.g. [SUFFIX])[PREFIX]def f(   (Codestral: M is empty)
    none  prefix                             plain LMs continue the prefix; the suffix is dropped

The tokens are inserted verbatim, spacing included (CodeLlama's tokens carry their own spaces:
``"<PRE> "``, ``" <SUF>"``, ``" <MID>"``). ``chat`` specs have no text layout: the pipeline builds
messages with :func:`assay.providers.fim_chat.fim_chat_messages` instead, and this function refuses them.
"""

from __future__ import annotations

from collections.abc import Iterable

from assay.errors import ConfigError
from assay.specs.schema import ModelSpec


def render_fim(spec: ModelSpec, prefix: str, suffix: str) -> str:
    """The exact prompt text for ``prefix``/``suffix`` in the spec's FIM layout."""
    fim = spec.fim
    if fim.mode == "psm":
        return f"{fim.prefix}{prefix}{fim.suffix}{suffix}{fim.middle}"
    if fim.mode == "spm":
        return f"{fim.suffix}{suffix}{fim.prefix}{prefix}{fim.middle}"
    if fim.mode == "none":
        return prefix
    raise ConfigError(f"model spec '{spec.family}' uses fim.mode chat, which has no text FIM layout")


def render_repo_context(spec: ModelSpec, files: Iterable[tuple[str, str]], repo_name: str | None = None,
                        current_file: str | None = None) -> str:
    """Repository-level context to put before the FIM prompt, or ``""`` when the spec has no file separator.

    Layout (StarCoder2 / Qwen2.5-Coder repository format)::

        <repo_name>{repo_name}\\n            (only when the spec has the token and repo_name is given)
        <file_sep>{name}\\n{content}\\n     (one per context file)
        <file_sep>{current_file}\\n         (only when current_file is given)
    """
    sep = spec.repo.file_sep
    if not sep or spec.fim.mode == "chat":
        return ""
    parts: list[str] = []
    if spec.repo.repo_name and repo_name:
        parts.append(f"{spec.repo.repo_name}{repo_name}\n")
    for name, content in files:
        body = content if content.endswith("\n") else content + "\n"
        parts.append(f"{sep}{name}\n{body}")
    if current_file is not None:
        parts.append(f"{sep}{current_file}\n")
    return "".join(parts)
