"""Exact and near-duplicate detection (MinHash + LSH, via ``datasketch``).

Documents are offered in a fixed order; the first of each group of duplicates is kept. Exact
duplicates share the SHA-256 of their text; near duplicates have an estimated Jaccard similarity of
their word 5-gram shingles at or above ``threshold`` (StarCoder-style near-dedup).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from assay.errors import ConfigError

Verdict = Literal["unique", "exact_duplicate", "near_duplicate"]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def shingles(text: str, n: int = 5) -> set[str]:
    """Word n-grams of ``text``; a text shorter than ``n`` words is one shingle."""
    words = text.split()
    if len(words) <= n:
        return {" ".join(words)}
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


@dataclass(frozen=True)
class DedupConfig:
    threshold: float = 0.85
    num_perm: int = 128
    shingle_size: int = 5
    seed: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"near-duplicate threshold must be in (0, 1], got {self.threshold}")


class Deduplicator:
    """Stateful: ``add(key, text)`` says whether the text is new, an exact copy, or a near copy of one seen."""

    def __init__(self, config: DedupConfig = DedupConfig()) -> None:
        from datasketch import MinHash, MinHashLSH

        self.config = config
        self._hashes: dict[str, str] = {}
        self._lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
        self._template = MinHash(num_perm=config.num_perm, seed=config.seed, scheme="affine32")
        self._minhash_cls = MinHash
        self._signatures: dict[str, Any] = {}
        """Kept documents' MinHash values, to confirm LSH candidates (estimated Jaccard = share of equal values)."""
        self.duplicate_of: dict[str, str] = {}
        """For each rejected key, the key of the kept document it duplicates."""

    def minhash(self, text: str) -> Any:
        m = self._minhash_cls(num_perm=self.config.num_perm, seed=self.config.seed,
                              permutations=self._template.permutations, scheme="affine32")
        m.update_batch([s.encode("utf-8", errors="surrogatepass") for s in shingles(text, self.config.shingle_size)])
        return m

    def add(self, key: str, text: str) -> Verdict:
        digest = content_hash(text)
        if digest in self._hashes:
            self.duplicate_of[key] = self._hashes[digest]
            return "exact_duplicate"
        self._hashes[digest] = key
        m = self.minhash(text)
        values = m.hashvalues
        similar = sorted(k for k in self._lsh.query(m)
                         if float((self._signatures[k] == values).mean()) >= self.config.threshold)
        if similar:
            self.duplicate_of[key] = self._hashes[digest] = similar[0]
            return "near_duplicate"
        self._lsh.insert(key, m)
        self._signatures[key] = values
        return "unique"
