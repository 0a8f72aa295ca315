"""repo-fim: fill-in-the-middle tasks mined from any local git repository, newer than a cutoff date.

Files added or modified by commits after ``since`` (``git log --since``) are read at ``HEAD``, parsed
with tree-sitter, and one syntax node is masked per task: a one-line statement (``line``), a block of
2–15 lines (``block``) or the inside of a call's argument list (``arguments``). Choices come from a
``random.Random(seed)``, so the same repository state, cutoff and seed give the same tasks. Because the
code is newer than the cutoff it can postdate a model's training data.

Scored by matching: ``em_santacoder`` (stripped equality) and ``edit_similarity``; ``passed`` is the
exact match. Each task clusters on its file.
"""

from __future__ import annotations

import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

from assay.errors import RequestInvalid
from assay.eval.metrics import edit_similarity, em_santacoder
from assay.eval.tasks.base import Problem, Score, Task
from assay.eval.tasks.registry import register
from assay.languages import detect_language

KINDS = ("line", "block", "arguments")
BLOCK_TYPES = {"block", "compound_statement", "statement_block", "constructor_body", "switch_block"}
ARGUMENT_TYPES = {"argument_list", "arguments"}
MAX_FILE_BYTES = 200_000
MAX_SPAN_CHARS = 600


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    line: int


def _git(repo: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True)
    except FileNotFoundError:
        raise RequestInvalid("repo-fim needs git on PATH") from None
    except subprocess.CalledProcessError as exc:
        msg = exc.stderr.decode(errors="replace").strip().splitlines()
        raise RequestInvalid(f"git {args[0]} in {repo} failed: {msg[0] if msg else exc.returncode}") from None
    return out.stdout.decode("utf-8", errors="replace")


def changed_files(repo: Path, since: str) -> list[str]:
    """Paths touched (added or modified) by commits after ``since`` that still exist at HEAD, sorted."""
    touched = {p for p in _git(repo, "log", f"--since={since}", "--diff-filter=AM", "--name-only",
                                "--pretty=format:").splitlines() if p.strip()}
    at_head = set(_git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines())
    return sorted(touched & at_head)


def _walk(node):  # noqa: ANN001, ANN202 - tree_sitter.Node
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def candidate_spans(source: bytes, grammar: str) -> dict[str, list[Span]]:
    """Maskable spans (byte offsets) by kind for one file."""
    from tree_sitter_language_pack import get_parser

    tree = get_parser(grammar).parse(source)
    spans: dict[str, list[Span]] = {k: [] for k in KINDS}
    for node in _walk(tree.root_node):
        if node.has_error:
            continue
        size = node.end_byte - node.start_byte
        rows = node.end_point[0] - node.start_point[0]
        if (node.type.endswith("statement") or node.type.endswith("declaration")) and rows == 0 and 3 <= size <= 200:
            spans["line"].append(Span("line", node.start_byte, node.end_byte, node.start_point[0] + 1))
        elif node.type in BLOCK_TYPES and 1 <= rows <= 14 and size <= MAX_SPAN_CHARS:
            start, end = node.start_byte, node.end_byte
            if source[start:start + 1] == b"{":
                start, end = start + 1, end - 1
            if source[start:end].strip():
                spans["block"].append(Span("block", start, end, node.start_point[0] + 1))
        elif node.type in ARGUMENT_TYPES and 2 < size <= MAX_SPAN_CHARS:
            start, end = node.start_byte + 1, node.end_byte - 1
            if source[start:end].strip():
                spans["arguments"].append(Span("arguments", start, end, node.start_point[0] + 1))
    return spans


class RepoFIM(Task):
    name = "repo-fim"
    kind = "match"
    max_tokens = 128
    timeout_s = 0.0

    def __init__(self, repo: str | Path, since: str, count: int = 200, seed: int = 0,
                 kinds: tuple[str, ...] | str = KINDS) -> None:
        self.repo = Path(repo).expanduser().resolve()
        if not (self.repo / ".git").exists():
            raise RequestInvalid(f"{self.repo} is not a git repository", field="repo")
        self.since = since
        self.count = int(count)
        self.seed = int(seed)
        self.kinds = tuple(kinds.split(",")) if isinstance(kinds, str) else tuple(kinds)
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise RequestInvalid(f"unknown span kind {unknown[0]!r}; choose from {', '.join(KINDS)}", field="kinds")

    def describe(self) -> dict:
        head = _git(self.repo, "rev-parse", "HEAD").strip()
        return super().describe() | {"repo": str(self.repo), "head": head, "since": self.since,
                                     "count": self.count, "seed": self.seed, "kinds": list(self.kinds)}

    def problems(self) -> list[Problem]:
        rng = random.Random(self.seed)
        pool: list[tuple[str, str, bytes, Span]] = []
        for path in changed_files(self.repo, self.since):
            lang = detect_language(path)
            if lang is None or lang.tree_sitter is None or lang.id in {"markdown", "json", "yaml", "toml"}:
                continue
            source = _git_bytes(self.repo, path)
            if len(source) > MAX_FILE_BYTES or b"\0" in source:
                continue
            spans = candidate_spans(source, lang.tree_sitter)
            for kind in self.kinds:
                if spans[kind]:
                    pool.append((path, lang.id, source, rng.choice(spans[kind])))
        rng.shuffle(pool)
        out = []
        for path, lang_id, source, span in pool[: self.count]:
            out.append(Problem(
                task_id=f"{path}:{span.line}:{span.kind}", prompt=source[: span.start].decode("utf-8", "replace"),
                suffix=source[span.end:].decode("utf-8", "replace"),
                reference=source[span.start: span.end].decode("utf-8", "replace"), language=lang_id,
                cluster=path, file_name=path, data={"kind": span.kind}))
        if not out:
            raise RequestInvalid(f"no files with maskable code changed in {self.repo} since {self.since}")
        return sorted(out, key=lambda p: p.task_id)

    def score(self, problem: Problem, completion: str) -> Score:
        em = em_santacoder(completion, problem.reference)
        return Score(passed=bool(em), outcome="match" if em else "mismatch",
                     metrics={"em_santacoder": float(em),
                              "edit_similarity": float(edit_similarity(completion, problem.reference))})


def _git_bytes(repo: Path, path: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{path}"], capture_output=True, check=True).stdout


@register("repo-fim", "FIM tasks mined from a local git repo (--data REPO --option since=DATE)")
def repo_fim(path: str | None = None, repo: str | None = None, since: str | None = None, count: int = 200,
             seed: int = 0, kinds: str = ",".join(KINDS)) -> Task:
    where = repo or path
    if not where:
        raise RequestInvalid("repo-fim needs a repository: --data PATH (or --option repo=PATH)", field="repo")
    if not since:
        raise RequestInvalid("repo-fim needs a cutoff date: --option since=YYYY-MM-DD", field="since")
    return RepoFIM(where, since, count=count, seed=seed, kinds=kinds)
