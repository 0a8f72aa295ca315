"""Evaluation: tasks, sandboxed execution, metrics pinned to reference definitions."""
