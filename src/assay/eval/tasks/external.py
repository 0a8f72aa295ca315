"""Loaders for benchmarks whose data the user supplies (not redistributable): CrossCodeEval, RepoBench
and SAFIM. Each reads a JSONL file with the benchmark's documented fields (``--data FILE``) and scores
by matching, with the metric variant pinned to that benchmark's harness (evaluation-reference.md §2):

- ``cceval``: the prediction is CCEval-processed first (one statement, comments removed, stripped
  lines). Fields ``prompt``, ``groundtruth``, ``metadata`` (``task_id``, ``repository``, ``file``),
  optional ``right_context``, ``crossfile_context.text``. Metrics ``em_cceval``, ``edit_similarity``
  (stripped), ``identifier_em``, ``identifier_f1``. Clustered on the repository.
  ``retrieval=True`` prepends the cross-file context; ``fim=True`` sends ``right_context`` as suffix.
- ``repobench``: RepoBench v1.1 fields ``repo_name``, ``file_path``, ``context`` (snippets), ``import_statement``,
  ``cropped_code``, ``next_line``. Prediction = first non-empty line; ``em_repobench``,
  ``edit_similarity`` unstripped. Clustered on the repository.
- ``safim``: fields ``task_id``, ``lang``, ``eval_prompt`` (code with ``{{completion}}``), ``ground_truth``.
  Scored by SAFIM's syntax match (whitespace-removed equality) and edit similarity; execution against
  SAFIM's unit tests needs its ExecEval service and is not done here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assay.errors import RequestInvalid
from assay.eval.metrics import (
    cceval_postprocess,
    edit_similarity,
    em_cceval,
    em_repobench,
    identifier_em,
    identifier_f1,
)
from assay.eval.tasks.base import Problem, Score, Task, read_jsonl, require
from assay.eval.tasks.registry import register
from assay.languages import detect_language

PLACEHOLDER = "{{completion}}"


def _language(file: str, fallback: str) -> str:
    lang = detect_language(file) if file else None
    return lang.id if lang else fallback


def _required_path(path: str | Path | None, task: str) -> Path:
    if not path:
        raise RequestInvalid(f"{task} needs its data file: pass --data FILE.jsonl", field="data")
    return Path(path)


class MatchTask(Task):
    """A benchmark scored by matching, read from the user's JSONL file (required)."""

    kind = "match"
    max_tokens = 64
    timeout_s = 0.0

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = _required_path(path, self.name)

    def _rows(self, fields: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any], str]]:
        """Each row with its 1-based number and ``FILE:N`` location, once ``fields`` are checked present."""
        for n, row in enumerate(read_jsonl(self.path), 1):
            where = f"{self.path}:{n}"
            require(row, fields, where)
            yield n, row, where


class CrossCodeEval(MatchTask):
    name = "cceval"
    stop = ("\n",)

    def __init__(self, path: str | Path | None = None, retrieval: bool = False, fim: bool = False,
                 language: str | None = None) -> None:
        super().__init__(path)
        self.retrieval = bool(retrieval)
        self.fim = bool(fim)
        self.forced_language = language

    def problems(self) -> list[Problem]:
        out = []
        for n, row, _ in self._rows(("prompt", "groundtruth")):
            meta: dict[str, Any] = row.get("metadata") or {}
            file = meta.get("file", "")
            lang = self.forced_language or _language(file, "python")
            prompt = row["prompt"]
            if self.retrieval and (row.get("crossfile_context") or {}).get("text"):
                prompt = row["crossfile_context"]["text"] + prompt
            out.append(Problem(task_id=str(meta.get("task_id", f"cceval/{n}")), prompt=prompt,
                               suffix=row.get("right_context", "") if self.fim else "",
                               reference=row["groundtruth"], language=lang,
                               cluster=str(meta.get("repository", meta.get("task_id", n))),
                               file_name=file or None, data={"original_prompt": row["prompt"]}))
        return out

    def postprocess(self, problem: Problem, completion: str) -> str:
        return cceval_postprocess(completion, prompt=problem.data["original_prompt"], language=problem.language)

    def score(self, problem: Problem, completion: str) -> Score:
        lang = problem.language
        em = em_cceval(completion, problem.reference, prompt=problem.data["original_prompt"], language=lang)
        metrics = {"em_cceval": float(em), "edit_similarity": float(edit_similarity(completion, problem.reference)),
                   "identifier_em": float(identifier_em(completion, problem.reference, language=lang)),
                   "identifier_f1": float(identifier_f1(completion, problem.reference, language=lang))}
        return Score(passed=bool(em), outcome="match" if em else "mismatch", metrics=metrics)

    def describe(self) -> dict:
        return super().describe() | {"retrieval": self.retrieval, "fim": self.fim, "data": str(self.path)}


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


class RepoBench(MatchTask):
    name = "repobench"
    stop = ("\n",)

    def problems(self) -> list[Problem]:
        out = []
        for n, row, _ in self._rows(("repo_name", "file_path", "cropped_code", "next_line")):
            snippets = "".join(f"# Path: {c.get('path', '')}\n{c.get('snippet', '')}\n"
                               for c in row.get("context") or [] if isinstance(c, dict))
            header = f"# Path: {row['file_path']}\n" + (row.get("import_statement") or "") + "\n"
            out.append(Problem(task_id=f"repobench/{n}", prompt=snippets + header + row["cropped_code"] + "\n",
                               reference=row["next_line"], language=_language(row["file_path"], "python"),
                               cluster=row["repo_name"], file_name=row["file_path"],
                               data={"level": row.get("level", "")}))
        return out

    def postprocess(self, problem: Problem, completion: str) -> str:
        return _first_line(completion)

    def score(self, problem: Problem, completion: str) -> Score:
        em = em_repobench(completion, problem.reference)
        return Score(passed=bool(em), outcome="match" if em else "mismatch",
                     metrics={"em_repobench": float(em),
                              "edit_similarity": float(edit_similarity(completion, problem.reference, strip=False))})


def _nospace(text: str) -> str:
    return re.sub(r"\s+", "", text)


class SAFIM(MatchTask):
    name = "safim"
    max_tokens = 128

    def problems(self) -> list[Problem]:
        out = []
        for _, row, where in self._rows(("task_id", "lang", "eval_prompt", "ground_truth")):
            if PLACEHOLDER not in row["eval_prompt"]:
                raise RequestInvalid(f"{where}: eval_prompt has no {PLACEHOLDER} placeholder")
            prefix, suffix = row["eval_prompt"].split(PLACEHOLDER, 1)
            lang = {"cpp": "cpp", "java": "java", "python": "python", "csharp": "csharp"}.get(row["lang"], row["lang"])
            out.append(Problem(task_id=str(row["task_id"]), prompt=prefix, suffix=suffix,
                               reference=row["ground_truth"], language=lang, cluster=str(row["task_id"]).split("/")[0],
                               data={}))
        return out

    def score(self, problem: Problem, completion: str) -> Score:
        match = _nospace(completion) == _nospace(problem.reference)
        return Score(passed=match, outcome="match" if match else "mismatch",
                     metrics={"em_safim": float(match),
                              "edit_similarity": float(edit_similarity(completion, problem.reference))})


@register("cceval", "CrossCodeEval from a user-supplied JSONL (--data); em_cceval, ES, identifier match")
def cceval(path: str | None = None, retrieval: bool = False, fim: bool = False, language: str | None = None) -> Task:
    return CrossCodeEval(path, retrieval=retrieval, fim=fim, language=language)


@register("repobench", "RepoBench v1.1 next-line from a user-supplied JSONL (--data); em_repobench, ES")
def repobench(path: str | None = None) -> Task:
    return RepoBench(path)


@register("safim", "SAFIM from a user-supplied JSONL (--data); syntax match and ES")
def safim(path: str | None = None) -> Task:
    return SAFIM(path)
