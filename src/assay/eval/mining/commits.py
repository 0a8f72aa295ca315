"""Mine a git history into (staged diff → commit message) and (diff → summary) evaluation cases.

Kept: non-merge commits by humans whose message says something and whose diff is textual and of a
reviewable size. Rejected, each counted under its reason: merges; bots (Dependabot, Renovate,
``[bot]`` accounts, CI users); trivial or templated messages ("wip", "fix typo", "Merge branch ...",
"Bump x from 1 to 2", "Initial commit", fewer than ``min_words`` words, ...); empty, binary-only or
oversized diffs. A commit whose message has a body of at least ``min_summary_words`` words also gives
a ``summarize_merge_request`` case (the body is the human summary of the diff).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from assay.eval.mining.cases import FeatureCase
from assay.eval.mining.git import Commit, check_repo, diff, log

COMMIT_FEATURE = "generate_commit_message"
SUMMARY_FEATURE = "summarize_merge_request"

BOT_PATTERN = re.compile(
    r"\[bot\]|\bbot@|dependabot|renovate|github-actions|gitlab-bot|greenkeeper|snyk-bot|pre-commit-ci|"
    r"semantic-release|weblate|transifex|crowdin|mergify|imgbot|allcontributors", re.IGNORECASE)

TRIVIAL_SUBJECTS = re.compile(
    r"^(?:"
    r"wip\b.*|w\.i\.p\.?|tmp|temp|todo|test|tests|testing|debug|foo|asdf+|x+|\.+|-+|"
    r"fix(?:ed|es)?|fix(?:ed|es)? (?:a |some )?typos?.*|typos?\b.*|update[sd]?|updates? \S+|changes|minor|"
    r"minor (?:changes|fixes|updates|cleanup)|misc\.?|cleanup|clean ?up|refactor|lint|format(?:ting)?|"
    r"fmt|style|whitespace|more|stuff|save|commit|oops.*|again|done|working|it works|"
    r"initial commit|first commit|init|initial import|"
    r"merge (?:branch|pull request|remote-tracking branch|tag|commit)\b.*|merged? .* into .*|"
    r"revert \".*|reapply \".*|"
    r"(?:chore\(deps[^)]*\): )?bump .+ from .+ to .+|(?:chore\(deps[^)]*\): )?update dependency .+|"
    r"update (?:changelog|readme|version|deps|dependencies|lock ?file)\.?|"
    r"(?:release|version|bump(?: version)?(?: to)?) v?\d+(?:\.\d+)*.*|v?\d+(?:\.\d+)+|"
    r"(?:squash|fixup|amend)!.*|auto(?:matic|mated)? .*commit.*|apply suggestions? from code review\.?"
    r")$", re.IGNORECASE)

_TRAILER = re.compile(r"^(?:[A-Za-z]+(?:-[A-Za-z]+)*-by|Change-Id|Cc|Fixes|Closes|Refs?|Bug|Issue|Link|Changelog|"
                      r"Part-of|See-also): .+$|^\(cherry picked from .+\)$", re.IGNORECASE)


@dataclass(frozen=True)
class MineOptions:
    rev: str = "HEAD"
    max_commits: int = 1000
    """How many commits (newest first) are looked at."""
    max_cases: int | None = None
    """Stop after this many commit-message cases."""
    min_words: int = 3
    max_subject_chars: int = 120
    max_diff_chars: int = 20_000
    min_summary_words: int = 8


@dataclass
class MineReport:
    """What mining produced and why the other commits were left out."""

    cases: list[FeatureCase] = field(default_factory=list)
    seen: int = 0
    kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        by_feature = Counter(c.feature for c in self.cases)
        return {"seen": self.seen, "kept": self.kept, "cases": dict(by_feature), "rejected": dict(self.rejected)}


def clean_message(message: str) -> str:
    """The message without trailers (Signed-off-by, Co-authored-by, Change-Id, ...) and comment lines."""
    lines = [ln.rstrip() for ln in message.strip().splitlines() if not ln.startswith("#")]
    while len(lines) > 1 and (not lines[-1].strip() or _TRAILER.match(lines[-1].strip())):
        lines.pop()
    return "\n".join(lines).strip()


def is_bot(commit: Commit) -> bool:
    return bool(BOT_PATTERN.search(commit.author) or BOT_PATTERN.search(commit.email))


def message_problem(message: str, options: MineOptions) -> str | None:
    """Why a (cleaned) message is no reference for a commit message, or None when it is usable."""
    subject = message.splitlines()[0].strip() if message else ""
    if not subject:
        return "empty_message"
    if TRIVIAL_SUBJECTS.match(subject.rstrip(".!")):
        return "trivial_message"
    if len(re.findall(r"\w+", subject)) < options.min_words:
        return "short_message"
    if len(subject) > options.max_subject_chars:
        return "long_subject"
    return None


def diff_problem(text: str, options: MineOptions) -> str | None:
    if not text.strip():
        return "empty_diff"
    if len(text) > options.max_diff_chars:
        return "large_diff"
    if not re.search(r"^[+-](?![+-]{2} )", text, re.MULTILINE):
        return "binary_or_mode_only_diff"
    return None


def commit_problem(commit: Commit, options: MineOptions) -> str | None:
    if len(commit.parents) > 1:
        return "merge"
    if is_bot(commit):
        return "bot"
    return message_problem(clean_message(commit.message), options)


def mine_commits(repo: Path | str, options: MineOptions = MineOptions()) -> MineReport:
    """Walk ``options.rev``'s history (newest first) and turn good commits into cases."""
    root = check_repo(Path(repo))
    report = MineReport()
    for commit in log(root, options.rev, options.max_commits):
        if options.max_cases is not None and report.kept >= options.max_cases:
            break
        report.seen += 1
        reason = commit_problem(commit, options)
        patch = ""
        if reason is None:
            patch = diff(root, commit.sha)
            reason = diff_problem(patch, options)
        if reason is not None:
            report.rejected[reason] += 1
            continue
        report.kept += 1
        message = clean_message(commit.message)
        source = {"repo": root.name, "commit": commit.sha, "author": commit.author, "date": commit.date}
        case_id = f"{root.name}@{commit.sha[:12]}"
        report.cases.append(FeatureCase(id=case_id, feature=COMMIT_FEATURE, inputs={"diff": patch},
                                        reference=message, source=source))
        body = "\n".join(message.splitlines()[1:]).strip()
        if len(re.findall(r"\w+", body)) >= options.min_summary_words:
            report.cases.append(FeatureCase(id=f"{case_id}:summary", feature=SUMMARY_FEATURE,
                                            inputs={"diff": patch, "title": message.splitlines()[0]},
                                            reference=body, source=source))
    return report
