"""Where corpus files come from: local git repositories and folders.

A SOURCE argument becomes one or more *repositories* (the unit of the train/validation split and
of license lookup):

- a git work tree, a folder with a license file, or a Debian source package (``debian/copyright``)
  is one repository;
- any other folder whose direct subfolders are such repositories is a collection: each of those
  subfolders is a repository, and loose files directly inside it form one more;
- any other folder is one repository.

In a git work tree the tracked files are listed (``git ls-files``), so ignored build output never
enters; elsewhere the folder is walked, skipping only hidden folders and ``__pycache__``. Files under
vendored folders (``vendor/``, ``node_modules/``, ...) are listed in both cases, so that the path
filter drops them and the manifest counts them as ``vendored``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assay.errors import ConfigError
from assay.train.corpus.filters import VENDORED_DIRS
from assay.train.corpus.licenses import LICENSE_FILE_RE


@dataclass(frozen=True)
class Repository:
    name: str
    """A stable, human-readable id: the folder name, with a short hash of its path to keep it unique."""
    root: Path
    is_git: bool
    loose_only: bool = False
    """True for the loose files of a collection folder (its subfolders are repositories of their own)."""

    def fingerprint(self, exclude: Path | None = None) -> str:
        """Changes when the repository's content may have changed.

        Git: the HEAD commit plus the size and mtime of every tracked file with uncommitted changes
        (untracked files are never corpus files). Folders: every file's size and mtime, except files
        under ``exclude`` (the corpus being written).
        """
        h = hashlib.sha256(str(self.root.resolve()).encode())
        changed: list[str] = []
        if self.is_git and not self.loose_only:
            head = subprocess.run(["git", "-C", str(self.root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                  check=False)
            status = subprocess.run(["git", "-C", str(self.root), "status", "--porcelain", "-z", "--untracked-files=no"],
                                    capture_output=True, text=True, check=False)
            h.update(head.stdout.encode())
            changed = sorted(entry[3:] for entry in status.stdout.split("\0") if len(entry) > 3)
        else:
            changed = self.files(exclude)
        for rel in changed:
            path = self.root / rel
            stat = path.stat() if path.exists() else None
            h.update(f"{rel}\0{stat.st_size if stat else -1}\0{stat.st_mtime_ns if stat else -1}\n".encode())
        return h.hexdigest()

    def files(self, exclude: Path | None = None) -> list[str]:
        """Relative POSIX paths of the candidate files, sorted; none under ``exclude``."""
        listed = self._list()
        if exclude is None or not exclude.resolve().is_relative_to(self.root.resolve()):
            return listed
        skip = exclude.resolve().relative_to(self.root.resolve()).as_posix() + "/"
        return [rel for rel in listed if not rel.startswith(skip)]

    def _list(self) -> list[str]:
        if self.loose_only:
            return sorted(e.name for e in self.root.iterdir() if e.is_file() and not e.is_symlink())
        if self.is_git:
            result = subprocess.run(["git", "-C", str(self.root), "ls-files", "-z"], capture_output=True,
                                    check=False)
            if result.returncode == 0:
                names = [n.decode("utf-8", errors="surrogateescape") for n in result.stdout.split(b"\0") if n]
                return sorted(n for n in names if (self.root / n).is_file() and not (self.root / n).is_symlink())
        return sorted(_walk(self.root))


_NOT_WALKED = frozenset({"__pycache__"})
"""Folders of a plain (non-git) source never listed, besides hidden ones: caches, never source."""


def _walk(root: Path) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _NOT_WALKED and not d.startswith("."))
        for name in filenames:
            full = Path(dirpath) / name
            if not full.is_symlink():
                yield full.relative_to(root).as_posix()


def _is_git(path: Path) -> bool:
    return (path / ".git").exists()


def _is_repository(path: Path) -> bool:
    if _is_git(path) or (path / "debian" / "copyright").is_file():
        return True
    return any(e.is_file() and LICENSE_FILE_RE.match(e.name) for e in path.iterdir())


def _name(path: Path) -> str:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    return f"{path.resolve().name or 'root'}-{digest}"


def discover(source: Path) -> list[Repository]:
    """The repositories a SOURCE argument stands for; ``ConfigError`` when it is not a folder."""
    if not source.is_dir():
        raise ConfigError(f"source {source} is not a directory")
    if _is_repository(source):
        return [Repository(_name(source), source, _is_git(source))]
    children = sorted(e for e in source.iterdir() if e.is_dir() and not e.name.startswith(".")
                      and e.name not in VENDORED_DIRS)
    repos = [c for c in children if _is_repository(c)]
    if not repos:
        return [Repository(_name(source), source, False)]
    found = [Repository(_name(c), c, _is_git(c)) for c in repos]
    others = [c for c in children if c not in repos]
    found += [Repository(_name(c), c, False) for c in others]
    if any(e.is_file() for e in source.iterdir()):
        found.append(Repository(_name(source), source, False, loose_only=True))
    return found
