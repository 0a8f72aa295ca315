"""Find secrets in a text: shaped credentials (:mod:`.rules`) and named values (:mod:`.named`).

Overlapping matches are resolved once: the earliest match wins, then the longest, then the rule
listed first (shaped rules before named ones), so a PEM block is one finding and a ``ghp_`` token
assigned to ``GITHUB_TOKEN`` is a ``github_token``, not a ``secret_assignment``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assay.pipeline.redact.named import is_reference, named_secrets
from assay.pipeline.redact.rules import RULES

_REFERENCE_CHECKED = frozenset({"connection_string_password"})
_KEY_MATERIAL = re.compile(r"[A-Za-z0-9+/=]{16,}")
"""A private-key block must hold key material; bare BEGIN/END markers in prose are not secrets."""


@dataclass(frozen=True)
class Finding:
    """One secret: ``text[start:end]`` is the secret itself (``value``); never log or return it."""

    kind: str
    start: int
    end: int
    value: str


def _candidates(text: str) -> list[tuple[int, int, int, str]]:
    found: list[tuple[int, int, int, str]] = []
    lowered = text.lower()
    for priority, rule in enumerate(RULES):
        if not rule.may_match(text, lowered):
            continue
        for m in rule.pattern.finditer(text):
            start, end = m.span(rule.group)
            value = text[start:end].rstrip()
            end = start + len(value)
            if not value or (rule.kind in _REFERENCE_CHECKED and is_reference(value)):
                continue
            if rule.kind == "private_key" and not _KEY_MATERIAL.search(value):
                continue
            found.append((start, end, priority, rule.kind))
    for kind, start, end in named_secrets(text):
        found.append((start, end, len(RULES), kind))
    return found


def find_secrets(text: str) -> list[Finding]:
    """Non-overlapping secrets of ``text`` in order of position."""
    chosen: list[Finding] = []
    last_end = -1
    for start, end, _, kind in sorted(_candidates(text), key=lambda c: (c[0], -(c[1] - c[0]), c[2])):
        if start < last_end:
            continue
        chosen.append(Finding(kind, start, end, text[start:end]))
        last_end = end
    return chosen


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
