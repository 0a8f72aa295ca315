"""Evaluation: tasks, sandboxed execution, metrics pinned to reference definitions.

- ``assay.eval.tasks``: the task registry (``get_task``, ``task_names``) and one module per benchmark.
- ``assay.eval.generate``: where completions come from (``PipelineGenerator``, ``GatewayGenerator``,
  ``SamplesFile``, ``ReferenceGenerator``).
- ``assay.eval.runner``: ``run_eval`` (parallel, resumable, model calls cached).
- ``assay.eval.store``: ``RunStore``, the SQLAlchemy run database.
- ``assay.eval.results``: per-problem scores, pass@k, clustered 95 % CIs.
- ``assay.eval.report``: the terminal table and the HTML report.
- ``assay.eval.sandbox``, ``assay.eval.metrics``: execution and metric definitions.
"""
