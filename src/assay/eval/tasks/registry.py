"""The task registry: a name → factory table. Adding a task is one module that calls ``register``.

Factories take keyword options (``path=`` for a data file, ``repo=`` for repo-fim, ...) so the CLI can
pass ``--data`` / ``--option key=value`` through without knowing the task.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from assay.errors import RequestInvalid
from assay.eval.tasks.base import Task

TaskFactory = Callable[..., Task]

_TASKS: dict[str, TaskFactory] = {}
_HELP: dict[str, str] = {}
_MODULES = (
    "assay.eval.tasks.humaneval",
    "assay.eval.tasks.infilling",
    "assay.eval.tasks.mbpp",
    "assay.eval.tasks.humaneval_x",
    "assay.eval.tasks.repo_fim",
    "assay.eval.tasks.external",
    "assay.eval.tasks.feature",
)


def register(name: str, help: str = "") -> Callable[[TaskFactory], TaskFactory]:
    """Decorator: make ``factory`` available as task ``name``."""

    def deco(factory: TaskFactory) -> TaskFactory:
        _TASKS[name] = factory
        _HELP[name] = help or ((factory.__doc__ or "").strip().splitlines() or [""])[0]
        return factory

    return deco


_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in _MODULES:
            importlib.import_module(module)
        _loaded = True


def task_names() -> list[str]:
    _load()
    return sorted(_TASKS)


def task_help() -> dict[str, str]:
    _load()
    return dict(sorted(_HELP.items()))


def get_task(name: str, **options: Any) -> Task:
    """Build task ``name``; ``RequestInvalid`` listing the known tasks when it is not registered."""
    _load()
    factory = _TASKS.get(name)
    if factory is None:
        raise RequestInvalid(f"unknown task '{name}'; known tasks: {', '.join(sorted(_TASKS))}")
    try:
        return factory(**{k: v for k, v in options.items() if v is not None})
    except TypeError as exc:
        raise RequestInvalid(f"task '{name}' does not take these options: {exc}") from None
