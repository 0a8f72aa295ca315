"""Benchmark tasks: ``get_task(name, **options)`` builds one; ``task_names()`` lists them."""

from assay.eval.tasks.base import Problem, Score, Task
from assay.eval.tasks.registry import get_task, register, task_help, task_names

__all__ = ["Problem", "Score", "Task", "get_task", "register", "task_help", "task_names"]
