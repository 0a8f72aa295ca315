"""Path exclusion: files matching a project's glob rules are never sent to a model.

Rules are ``exclusion.patterns`` (every request) plus ``exclusion.projects[<project path>]`` (the
request's GitLab ``project_path``). Glob semantics are wcmatch's ``globmatch`` with ``GLOBSTAR``,
``DOTGLOB`` and ``MATCHBASE``: ``**`` spans any number of directories (``**/.env`` matches ``.env`` and
``a/b/.env``), ``*`` stays within one path segment, a pattern without ``/`` matches the file name at
any depth (``*.pem`` matches ``certs/server.pem``), a pattern with ``/`` is anchored at the project
root (``secrets/**`` matches ``secrets/a/b`` but not ``app/secrets/a``; write ``**/secrets/**`` for
any depth), and ``*`` matches dot-files. Paths are compared as given by the editor, relative to the
project: backslashes become ``/``, a leading ``./`` or ``/`` is dropped; matching is case-sensitive.

An excluded current file gets no suggestion and no model call (GitLab routes answer 200 with
``choices: []``, OpenAI routes an empty-text choice); excluded context files are dropped before
context selection, so no part of them reaches the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from wcmatch import glob

from assay.config import Settings
from assay.pipeline.types import CompletionInput, CompletionResult, Trace
from assay.types import Choice, FinishReason, Usage

_FLAGS = glob.GLOBSTAR | glob.DOTGLOB | glob.MATCHBASE


def normalize_path(path: str) -> str:
    """An editor's file path as rules see it: ``/`` separators, no leading ``./`` or ``/``."""
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


@dataclass(frozen=True)
class ExclusionRules:
    patterns: tuple[str, ...]

    def excludes(self, path: str | None) -> bool:
        """True when ``path`` matches any rule (a missing path is never excluded)."""
        if not path or not self.patterns:
            return False
        return glob.globmatch(normalize_path(path), list(self.patterns), flags=_FLAGS)


def rules_for(settings: Settings, project: str | None) -> ExclusionRules:
    """The global patterns plus those of ``project``."""
    config = settings.exclusion
    extra = config.projects.get(project.strip("/"), []) if project else []
    return ExclusionRules(tuple(config.patterns) + tuple(extra))


@dataclass(frozen=True)
class ExclusionOutcome:
    current_file: bool
    """The file being edited is excluded: no suggestion, no model call."""
    context_dropped: int

    def trace_entry(self) -> dict[str, object]:
        return {"current_file": self.current_file, "context_dropped": self.context_dropped}


def apply_exclusion(inp: CompletionInput, settings: Settings) -> tuple[CompletionInput, ExclusionOutcome]:
    """``inp`` without excluded context files, and whether its own file is excluded."""
    rules = rules_for(settings, inp.project)
    kept = tuple(c for c in inp.context if not rules.excludes(c.name))
    outcome = ExclusionOutcome(rules.excludes(inp.file_name), len(inp.context) - len(kept))
    return (replace(inp, context=kept) if outcome.context_dropped else inp), outcome


def excluded_result(inp: CompletionInput, model: str, trace: Trace) -> CompletionResult:
    """The answer for an excluded current file: ``inp.overrides.n`` empty choices, no model call."""
    choices = tuple(Choice("", i, FinishReason.STOP) for i in range(max(inp.overrides.n, 1)))
    return CompletionResult(choices=choices, model=model, language=None, usage=Usage(), trace=trace)
