"""The corpus manifest (``manifest.json`` next to the shards) and the per-repository scan markers.

The manifest says what the corpus holds (files, bytes, tokens, languages, licenses, splits, shards)
and what each filter removed; ``summary()`` is what ``assay data build --json`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from assay.errors import ConfigError

MANIFEST_NAME = "manifest.json"
Split = Literal["train", "validation"]


class Record(BaseModel):
    """One line of a shard."""

    text: str
    repo: str
    path: str
    language: str
    license: str


class LanguageStats(BaseModel):
    files: int = 0
    bytes: int = 0
    tokens: int = 0


class SplitStats(BaseModel):
    files: int = 0
    bytes: int = 0
    tokens: int = 0
    repositories: list[str] = Field(default_factory=list)


class Shard(BaseModel):
    path: str
    """Relative to the corpus folder."""
    split: Split
    files: int
    bytes: int


class RepositoryScan(BaseModel):
    """The completion marker of one repository's scan (``.work/<name>.done.json``)."""

    name: str
    root: str
    fingerprint: str
    options_key: str
    seen: int = 0
    kept: int = 0
    removed: dict[str, int] = Field(default_factory=dict)
    secrets: dict[str, int] = Field(default_factory=dict)
    contaminated: dict[str, int] = Field(default_factory=dict)
    """Files dropped per benchmark they overlap."""


class Manifest(BaseModel):
    version: int = 1
    sources: list[str]
    inputs_key: str
    """Hash of the options and every repository scan; a rerun with the same key reuses this corpus."""
    files: int = 0
    bytes: int = 0
    tokens: int = 0
    token_count: str = "approximate"
    """``approximate`` (words and punctuation) or ``tokenizer:<path>``."""
    files_seen: int = 0
    languages: dict[str, LanguageStats] = Field(default_factory=dict)
    licenses: dict[str, int] = Field(default_factory=dict)
    """Kept files per license expression."""
    removed: dict[str, int] = Field(default_factory=dict)
    """Files dropped per reason (filters, license, decontamination, duplicates)."""
    contaminated: dict[str, int] = Field(default_factory=dict)
    """Files dropped by decontamination, per benchmark."""
    secrets_scrubbed: dict[str, int] = Field(default_factory=dict)
    splits: dict[str, SplitStats] = Field(default_factory=dict)
    shards: list[Shard] = Field(default_factory=list)
    repositories: list[RepositoryScan] = Field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """The headline numbers, without per-shard and per-repository detail."""
        return self.model_dump(include={"files", "bytes", "tokens", "token_count", "files_seen", "languages",
                                        "licenses", "removed", "contaminated", "secrets_scrubbed"}) | {
            "splits": {k: v.model_dump(exclude={"repositories"}) | {"repositories": len(v.repositories)}
                       for k, v in self.splits.items()},
            "shards": len(self.shards),
        }

    def write(self, folder: Path) -> Path:
        path = folder / MANIFEST_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST_NAME
        if not path.is_file():
            raise ConfigError(f"{folder} holds no corpus manifest ({MANIFEST_NAME}); build one with `assay data build`")
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{path}: not a valid corpus manifest: {str(exc).splitlines()[0]}") from None
