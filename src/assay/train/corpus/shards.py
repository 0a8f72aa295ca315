"""Sharded JSONL: writing a corpus split and reading it back.

Shards are ``<split>-00000.jsonl`` files of ``Record`` lines, each closed once it passes
``shard_bytes`` of text. ``iter_records`` reads a corpus folder (or one JSONL file) back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from assay.errors import ConfigError
from assay.train.corpus.manifest import MANIFEST_NAME, Manifest, Record, Shard, Split


class ShardWriter:
    def __init__(self, folder: Path, split: Split, shard_bytes: int) -> None:
        self.folder = folder
        self.split = split
        self.shard_bytes = shard_bytes
        self.shards: list[Shard] = []
        self._fh: IO[str] | None = None
        self._files = 0
        self._bytes = 0

    def write(self, record: Record) -> None:
        if self._fh is None:
            name = f"{self.split}-{len(self.shards):05d}.jsonl"
            self._fh = (self.folder / name).open("w", encoding="utf-8")
            self._name = name
        self._fh.write(record.model_dump_json() + "\n")
        self._files += 1
        self._bytes += len(record.text.encode("utf-8", errors="replace"))
        if self._bytes >= self.shard_bytes:
            self._close()

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self.shards.append(Shard(path=self._name, split=self.split, files=self._files, bytes=self._bytes))
            self._fh = None
            self._files = self._bytes = 0

    def close(self) -> list[Shard]:
        self._close()
        return self.shards


def iter_records(source: Path, split: Split | None = "train") -> Iterator[Record]:
    """Records of a corpus folder's ``split`` shards (all splits when None), or of one JSONL file.

    A folder without a manifest is read by shard names (``train-*.jsonl``), else every ``*.jsonl``
    in it counts as training data (and none as validation).

    JSONL lines need a ``text`` field; the other ``Record`` fields default to empty when missing.
    """
    if source.is_file():
        files = [source]
    elif (source / MANIFEST_NAME).is_file():
        manifest = Manifest.read(source)
        files = [source / s.path for s in manifest.shards if split is None or s.split == split]
    elif source.is_dir():
        files = sorted(source.glob(f"{split or '*'}-*.jsonl"))
        if not files and split != "validation":
            files = sorted(source.glob("*.jsonl"))
    else:
        raise ConfigError(f"training data {source} does not exist")
    for file in files:
        with file.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    text = row["text"]
                except (ValueError, KeyError, TypeError):
                    raise ConfigError(f"{file}:{n}: expected a JSON object with a 'text' field") from None
                yield Record(text=text, repo=str(row.get("repo", "")), path=str(row.get("path", "")),
                             language=str(row.get("language", "")), license=str(row.get("license", "")))
