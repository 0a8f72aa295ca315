"""Metrics, each pinned to a named reference definition (see shared/reference/evaluation-reference.md §2).

"Exact match" means different things in different harnesses, so every variant has its own name:

- ``pass_at_k``: unbiased estimator of Chen et al. 2021 (openai/human-eval ``estimate_pass_at_k``).
- ``em_cceval``: CCEval — truncate the prediction to one statement, strip comments, compare
  non-empty stripped lines.
- ``em_repobench``: RepoBench — whitespace-token equality.
- ``em_santacoder``: bigcode-evaluation-harness SantaCoder FIM — cut at stop words, compare stripped.
- ``em_first_line``: Qwen2.5-Coder HumanEval-FIM — the first (non-blank-leading) line, stripped.
- ``edit_similarity``: ``fuzz.ratio`` through RapidFuzz, rounded half-to-even (0–100).
- ``identifier_em`` / ``identifier_f1``: CCEval identifier match (ordered list equality / set F1).

Each metric is registered by name in ``METRICS`` so tasks and reports refer to them as data.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with ``n`` samples of which ``c`` are correct.

    Uses the numerically stable product form ``1 - prod(1 - k / i for i in n-c+1..n)``; 1.0 when
    ``n - c < k``. Raises ``ValueError`` when ``k > n`` (pass@k is undefined there) or counts are invalid.
    """
    if n < 1 or not 0 <= c <= n:
        raise ValueError(f"need n >= 1 and 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs at least {k} samples per problem, got n={n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(results: Sequence[tuple[int, int]], k: int) -> float:
    """Benchmark pass@k: the unweighted mean over problems of per-problem pass@k ((n, c) pairs)."""
    if not results:
        raise ValueError("no problems to score")
    return float(np.mean([pass_at_k(n, c, k) for n, c in results]))


def round_half_even(x: float) -> int:
    return int(round(x))


def edit_similarity(prediction: str, reference: str, *, strip: bool = True) -> int:
    """``es_fuzzratio``: fuzzywuzzy-compatible ``fuzz.ratio`` (0–100) via RapidFuzz, half-to-even rounding.

    ``strip=True`` is CCEval's rule; RepoBench compares unstripped strings (``strip=False``).
    Both empty → 100; exactly one empty → 0 (fuzzywuzzy's decorators).
    """
    a, b = (prediction.strip(), reference.strip()) if strip else (prediction, reference)
    if a == b:
        return 100
    if not a or not b:
        return 0
    return round_half_even(fuzz.ratio(a, b))


_LINE_COMMENT = re.compile(r"#.*|//.*")


def _remove_comments(code: str) -> str:
    """CCEval's ``remove_comments``: deletes ``#…`` and ``//…`` everywhere, string literals included."""
    return _LINE_COMMENT.sub("", code)


def _python_one_statement(prompt: str, prediction: str) -> str:
    """The shortest prefix of ``prediction`` that parses cleanly after ``prompt`` and ends before a newline."""
    from tree_sitter_language_pack import get_parser

    parser = get_parser("python")
    for i, ch in enumerate(prediction):
        if ch != "\n":
            continue
        candidate = prediction[:i]
        tree = parser.parse((prompt + candidate).encode("utf-8"))
        if not tree.root_node.has_error:
            return candidate.rstrip()
    return prediction


def _bracket_one_statement(prediction: str) -> str:
    """Java / C# / TypeScript: cut after the first ``;``, ``{`` or ``}``."""
    for i, ch in enumerate(prediction):
        if ch in ";{}":
            return prediction[: i + 1]
    return prediction


def _nonempty_lines(code: str) -> list[str]:
    return [line.strip() for line in code.split("\n") if line.strip()]


def _one_statement(prediction: str, prompt: str, language: str) -> str:
    """CCEval's truncation to one statement; the raw prediction on any failure, as in CCEval."""
    try:
        if language == "python":
            return _python_one_statement(prompt, prediction)
        if language in {"java", "csharp", "typescript", "javascript"}:
            return _bracket_one_statement(prediction)
    except Exception:  # noqa: BLE001 - CCEval keeps the raw completion on any failure
        pass
    return prediction


def em_cceval(prediction: str, reference: str, *, prompt: str = "", language: str = "python") -> int:
    """CCEval exact match (1 or 0). On a truncation failure the raw prediction is kept, as in CCEval."""
    prediction = _one_statement(prediction, prompt, language)
    return int(_nonempty_lines(_remove_comments(prediction)) == _nonempty_lines(_remove_comments(reference)))


def cceval_postprocess(prediction: str, *, prompt: str = "", language: str = "python") -> str:
    """CCEval's processed prediction (what its ES and identifier match see): one statement, comments
    removed, non-empty stripped lines joined by ``\n``. On a truncation failure the raw prediction is kept."""
    prediction = _one_statement(prediction, prompt, language)
    return "\n".join(_nonempty_lines(_remove_comments(prediction)))


def em_repobench(prediction: str, reference: str) -> int:
    """RepoBench exact match: ``pred.split() == gt.split()``."""
    return int(prediction.split() == reference.split())


SANTACODER_STOP_WORDS = ("<|endoftext|>", "<|filename|>", "<file_sep>")


def em_santacoder(prediction: str, reference: str, *, stop_words: Sequence[str] = SANTACODER_STOP_WORDS) -> int:
    """bigcode-evaluation-harness SantaCoder/StarCoder FIM exact match."""
    for word in stop_words:
        prediction = prediction.split(word, 1)[0]
    return int(prediction.strip() == reference.strip())


def first_line(text: str) -> str:
    """Qwen's rule: the first line, or the second when the text starts with ``\\n`` or `` \\n``."""
    lines = text.split("\n")
    if (text.startswith("\n") or text.startswith(" \n")) and len(lines) > 1:
        return lines[1]
    return lines[0]


def em_first_line(prediction: str, reference: str) -> int:
    """Qwen2.5-Coder HumanEval-FIM exact match: first line of the prediction vs the stripped reference."""
    return int(first_line(prediction).strip() == reference.strip())


_STRING = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"")
_WORD = re.compile(r"\w+")
_IDENT = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")

_C_FAMILY = (
    "abstract assert boolean break byte case catch char class const continue default do double else enum "
    "extends final finally float for goto if implements import instanceof int interface long native new "
    "package private protected public return short static strictfp super switch synchronized this throw "
    "throws transient try void volatile while true false null var let function typeof delete in of yield "
    "await async export from as any number string symbol type namespace declare readonly keyof infer is "
    "unknown never undefined base bool checked decimal delegate event explicit extern fixed foreach implicit "
    "internal lock object operator out override params ref sbyte sealed sizeof stackalloc struct uint ulong "
    "unchecked unsafe ushort using virtual get set value where partial dynamic"
).split()

KEYWORDS: dict[str, frozenset[str]] = {
    "python": frozenset(keyword.kwlist),
    "java": frozenset(_C_FAMILY),
    "javascript": frozenset(_C_FAMILY),
    "typescript": frozenset(_C_FAMILY),
    "csharp": frozenset(_C_FAMILY),
}


def identifiers(code: str, language: str = "python") -> list[str]:
    """CCEval ``extract_identifiers``: drop string literals, take ``\\w+`` tokens that are identifiers, not keywords."""
    stop = KEYWORDS.get(language, frozenset())
    words = _WORD.findall(_STRING.sub("", code))
    return [w for w in words if _IDENT.match(w) and w not in stop]


def identifier_em(prediction: str, reference: str, *, language: str = "python") -> int:
    """1 when the ordered identifier lists (duplicates included) are equal; two empty lists match."""
    return int(identifiers(prediction, language) == identifiers(reference, language))


def identifier_f1(prediction: str, reference: str, *, language: str = "python") -> float:
    """Set F1 = 2tp / (2tp + fp + fn); 0 when both sets are empty (CCEval)."""
    pred, ref = set(identifiers(prediction, language)), set(identifiers(reference, language))
    tp = len(pred & ref)
    denominator = 2 * tp + len(pred - ref) + len(ref - pred)
    return 0.0 if denominator == 0 else 2 * tp / denominator


SHARE = (0.0, 1.0)
"""The range of shares and rates: pass@k, exact matches, ``answered``, F1."""
PERCENT_SCALE = (0.0, 100.0)
"""The range of ``fuzz.ratio`` (``edit_similarity``): 0-100, as CCEval and RepoBench report it (§2.3)."""


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[..., float]
    higher_is_better: bool = True
    binary: bool = False
    """Per-problem values are 0/1 (McNemar applies) rather than continuous."""
    scale: tuple[float, float] = SHARE
    """Every value lies in [low, high]: a mean's confidence interval is clipped to it (``metric_range``)."""


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("em_cceval", em_cceval, binary=True),
        Metric("em_repobench", em_repobench, binary=True),
        Metric("em_santacoder", em_santacoder, binary=True),
        Metric("em_first_line", em_first_line, binary=True),
        Metric("edit_similarity", edit_similarity, scale=PERCENT_SCALE),
        Metric("identifier_em", identifier_em, binary=True),
        Metric("identifier_f1", identifier_f1),
    )
}

OTHER_RANGES: dict[str, tuple[float, float]] = {
    "answered": SHARE,
    "em_safim": SHARE,
    "rouge_l": SHARE,
    "judge": SHARE,
    "judge_parsed": SHARE,
    "embedding_similarity": (-1.0, 1.0),
}
"""Ranges of per-sample values computed outside ``METRICS``: ``answered`` (results), SAFIM's match
(tasks/external), and the feature tasks' ROUGE-L F1, judge score normalized to 0-1 and its parse rate,
and cosine similarity of embeddings (tasks/feature)."""


def metric_range(name: str) -> tuple[float, float] | None:
    """The values ``name`` can take, or None when unknown (a task's own metric): pass@k and shares lie
    in [0, 1], ``edit_similarity`` in [0, 100].

    A normal-approximation CI (mean ± 1.96 SE, evaluation-reference.md §3.1) on a few problems can leave
    this range (2 problems, one answered: 0.5 ± 0.98); the reported bounds are clipped to it.
    """
    if name.startswith("pass@"):
        return SHARE
    if name in METRICS:
        return METRICS[name].scale
    return OTHER_RANGES.get(name)
