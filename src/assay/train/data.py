"""Training data: documents from JSONL/text files, FIM applied per chunk, token ids packed into rows.

Inputs are ``.jsonl`` files (one object per line with ``text`` and optionally ``language`` and
``id`` or ``repo``/``path``; the shards ``assay data build`` writes) or plain source files (language
from the extension), or directories of either. A corpus with ``validation-*.jsonl`` shards keeps its
own split; otherwise documents go to validation by a hash of their id, so the split never changes
between runs. Each document is cut at line boundaries into chunks of at most
``chunk_chars`` characters, so that a FIM example fits one training row; each chunk becomes one FIM or
plain example ending in eos. ``build_stream`` is deterministic in ``(documents, seed, epoch)``: resume
rebuilds the exact same token stream instead of storing it.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.errors import ConfigError
from assay.languages import detect_language
from assay.train.fim import FimConfig, FimTokens, apply_fim

_TEXT_SUFFIXES = {".txt"}
_SKIP_NAMES = {"manifest.json"}
"""Bookkeeping files of a corpus folder; hidden folders (``.work/``, ``.git/``) are skipped too."""


@dataclass(frozen=True)
class Document:
    text: str
    language: str | None = None
    id: str = ""
    validation: bool = False
    """True for documents from a corpus's ``validation-*.jsonl`` shards (``assay data build`` output)."""


def _iter_files(paths: Sequence[str | Path]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.name not in _SKIP_NAMES
                              and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            yield path
        else:
            raise ConfigError(f"training data path {path} does not exist")


def _read_jsonl(path: Path) -> Iterator[Document]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise ConfigError(f"{path}:{lineno}: not a JSON object") from None
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ConfigError(f"{path}:{lineno}: each line needs a string field 'text'")
            doc_id = str(row.get("id") or "/".join(str(row[k]) for k in ("repo", "path") if row.get(k))
                         or f"{path}:{lineno}")
            yield Document(row["text"], row.get("language"), doc_id, path.name.startswith("validation-"))


def read_documents(paths: Sequence[str | Path]) -> list[Document]:
    """Every document under ``paths``; files that are neither JSONL, text nor a known language are skipped."""
    docs: list[Document] = []
    for file in _iter_files(paths):
        if file.suffix == ".jsonl":
            docs.extend(_read_jsonl(file))
            continue
        lang = detect_language(file.name)
        if lang is None and file.suffix not in _TEXT_SUFFIXES:
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        docs.append(Document(text, lang.id if lang else None, str(file)))
    if not docs:
        raise ConfigError(f"no training documents found in {', '.join(str(p) for p in paths)}")
    return docs


def split_documents(docs: Iterable[Document], val_fraction: float) -> tuple[list[Document], list[Document]]:
    """(train, validation): the corpus's own split when it has one, else a stable hash of each document's id."""
    docs = list(docs)
    if any(doc.validation for doc in docs):
        return [d for d in docs if not d.validation], [d for d in docs if d.validation]
    train: list[Document] = []
    val: list[Document] = []
    for doc in docs:
        h = int.from_bytes(hashlib.sha256((doc.id or doc.text).encode("utf-8")).digest()[:8], "big")
        (val if h / 2**64 < val_fraction else train).append(doc)
    if not train:
        raise ConfigError("every document landed in the validation split; lower val_fraction or add data")
    return train, val


def chunk_text(text: str, max_chars: int) -> list[str]:
    """Cut at line ends into pieces of at most ``max_chars`` (longer lines are cut as they are)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        while len(line) > max_chars:
            if current:
                chunks.append("".join(current))
                current, size = [], 0
            chunks.append(line[:max_chars])
            line = line[max_chars:]
        if size + len(line) > max_chars and current:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        chunks.append("".join(current))
    return chunks


def examples(docs: Sequence[Document], *, tokens: FimTokens, fim: FimConfig, chunk_chars: int,
             rng: random.Random) -> Iterator[str]:
    """Training strings: each chunk of each document, FIM-transformed at ``fim.rate``, ending in eos."""
    for doc in docs:
        for chunk in chunk_text(doc.text, chunk_chars):
            yield apply_fim(chunk, rng, tokens, fim, doc.language).text


def build_stream(docs: Sequence[Document], tokenizer: Any, *, tokens: FimTokens, fim: FimConfig,
                 chunk_chars: int, seed: int, epoch: int, batch_docs: int = 512) -> Any:
    """One epoch's token stream (a 1-D int64 tensor): documents shuffled, FIM applied, tokenized, joined."""
    import torch

    rng = random.Random(f"{seed}:{epoch}")
    order = list(range(len(docs)))
    rng.shuffle(order)
    shuffled = [docs[i] for i in order]
    pieces: list[Any] = []
    batch: list[str] = []
    for text in examples(shuffled, tokens=tokens, fim=fim, chunk_chars=chunk_chars, rng=rng):
        batch.append(text)
        if len(batch) >= batch_docs:
            pieces.append(_encode(tokenizer, batch))
            batch = []
    if batch:
        pieces.append(_encode(tokenizer, batch))
    return torch.cat(pieces) if pieces else torch.zeros(0, dtype=torch.long)


def _encode(tokenizer: Any, texts: list[str]) -> Any:
    import torch

    ids = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    return torch.tensor([t for row in ids for t in row], dtype=torch.long)


def rows(stream: Any, seq_len: int) -> tuple[Any, Any]:
    """(inputs, targets), each ``[n, seq_len]``: non-overlapping windows, targets shifted by one token."""
    n = (stream.numel() - 1) // seq_len
    if n < 1:
        raise ConfigError(f"not enough training tokens ({stream.numel()}) for one sequence of {seq_len}")
    return stream[: n * seq_len].view(n, seq_len), stream[1 : n * seq_len + 1].view(n, seq_len)
