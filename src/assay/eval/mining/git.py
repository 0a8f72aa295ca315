"""The few git calls mining needs, as typed results. ``git`` must be on PATH."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from assay.errors import RequestInvalid

_FIELD = "\x00"
_RECORD = "\x1e"


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: str
    message: str

    @property
    def subject(self) -> str:
        return self.message.strip().splitlines()[0].strip() if self.message.strip() else ""

    @property
    def body(self) -> str:
        lines = self.message.strip().splitlines()
        return "\n".join(lines[1:]).strip()


def git(repo: Path, *args: str, timeout_s: float = 60.0) -> str:
    """Run ``git -C repo args``; ``RequestInvalid`` with git's message when it fails."""
    try:
        out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=timeout_s, check=False)
    except FileNotFoundError:
        raise RequestInvalid("git is not installed (needed to mine a repository)") from None
    except subprocess.TimeoutExpired:
        raise RequestInvalid(f"git {args[0]} in {repo} took longer than {timeout_s:g} s") from None
    if out.returncode != 0:
        message = out.stderr.decode(errors="replace").strip().splitlines()
        raise RequestInvalid(f"git {args[0]} in {repo} failed: {message[-1] if message else out.returncode}")
    return out.stdout.decode("utf-8", errors="replace")


def check_repo(repo: Path) -> Path:
    repo = Path(repo)
    if not repo.is_dir():
        raise RequestInvalid(f"repository {repo} does not exist")
    top = git(repo, "rev-parse", "--show-toplevel").strip()
    return Path(top)


def log(repo: Path, rev: str = "HEAD", max_count: int = 1000) -> list[Commit]:
    """Commits reachable from ``rev``, newest first (merges included: callers filter them)."""
    fmt = "%x00".join(("%H", "%P", "%an", "%ae", "%aI", "%B")) + "%x1e"
    text = git(repo, "log", f"--max-count={max_count}", f"--format={fmt}", rev, "--")
    commits = []
    for record in text.split(_RECORD):
        record = record.lstrip("\n")
        if not record:
            continue
        sha, parents, author, email, date, message = record.split(_FIELD, 5)
        commits.append(Commit(sha, tuple(parents.split()), author, email, date, message))
    return commits


def diff(repo: Path, sha: str) -> str:
    """The commit's change as a unified diff (against its first parent; the root commit against nothing)."""
    return git(repo, "show", "--format=", "--patch", "--no-color", "--no-ext-diff", "--no-renames", sha)
