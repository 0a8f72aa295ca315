"""Placeholders for one request's secrets, and their restoration in what the model answers.

Placeholder format: ``<ASSAY_SECRET_1>``, ``<ASSAY_SECRET_2>``, … numbered in order of first sight; the
same secret gets the same placeholder everywhere in the request (prefix, suffix, every context file,
every chat message). A neutral, obviously-fake token was chosen over format-preserving fake values:
a model copies it verbatim (``key = "<ASSAY_SECRET_1>"``), it cannot be mistaken for a real key by the
user or by scanners, and it cannot collide with a real secret.

Restoration works line by line: a line of the model's answer has its known placeholders replaced by
the secrets; a line that still holds a placeholder (one the model made up) is dropped whole, and so is
a last line ending in a cut-off placeholder (``<ASSAY_SEC``). Placeholder-shaped text the request
already held (:meth:`SecretVault.reserve`) is never used for a secret and is kept as it is. A request
in which nothing was redacted passes through untouched. Streams are restored by :class:`StreamRestorer`, which holds text back to
the end of its line only when the request had secrets, so a stream and a whole answer restore alike.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from assay.pipeline.redact.detect import Finding, find_secrets

PLACEHOLDER = re.compile(r"<ASSAY_SECRET_\d+>")
_PARTIAL = re.compile(r"<ASSAY_SECRET_\d*$|<A(?:S(?:S(?:A(?:Y(?:_(?:S(?:E(?:C(?:R(?:E(?:T)?)?)?)?)?)?)?)?)?)?)?$")
_MIN_PARTIAL = 4


class SecretVault:
    """The secrets of one request, each with its placeholder, and how many of each kind were replaced."""

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self._secrets: dict[str, str] = {}
        self._counts: Counter[str] = Counter()
        self._literal: set[str] = set()
        self._next = 1

    def reserve(self, texts: Iterable[str]) -> None:
        """Keep placeholder-shaped text already in the request (``<ASSAY_SECRET_3>`` typed by the user)
        out of numbering, so it is never confused with a secret's placeholder and survives restoration."""
        for text in texts:
            self._literal.update(PLACEHOLDER.findall(text))

    def __bool__(self) -> bool:
        return bool(self._placeholders)

    def placeholder(self, finding: Finding) -> str:
        """The placeholder of ``finding.value`` (a new one the first time it is seen); counts the finding."""
        self._counts[finding.kind] += 1
        existing = self._placeholders.get(finding.value)
        if existing is not None:
            return existing
        token = f"<ASSAY_SECRET_{self._next}>"
        while token in self._literal:
            self._next += 1
            token = f"<ASSAY_SECRET_{self._next}>"
        self._next += 1
        self._placeholders[finding.value] = token
        self._secrets[token] = finding.value
        return token

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by its placeholder."""
        return self._replace(text, find_secrets(text))

    def _replace(self, text: str, findings: Iterable[Finding]) -> str:
        parts: list[str] = []
        pos = 0
        for f in findings:
            parts.append(text[pos:f.start])
            parts.append(self.placeholder(f))
            pos = f.end
        parts.append(text[pos:])
        return "".join(parts)

    def redact_fim(self, prefix: str, suffix: str) -> tuple[str, str]:
        """Redact a prefix and suffix as the one text they are, so a secret the cursor splits is found.

        A secret that spans the cursor becomes its placeholder at the end of the prefix; its rest is
        removed from the suffix.
        """
        cut = len(prefix)
        findings = find_secrets(prefix + suffix)
        before = [f for f in findings if f.start < cut]
        after = [Finding(f.kind, f.start - cut, f.end - cut, f.value) for f in findings if f.start >= cut]
        new_prefix = self._replace(prefix, [Finding(f.kind, f.start, min(f.end, cut), f.value) for f in before])
        spill = max((f.end - cut for f in before), default=0)
        rest = suffix[spill:] if spill > 0 else suffix
        shift = max(spill, 0)
        new_suffix = self._replace(rest, [Finding(f.kind, f.start - shift, f.end - shift, f.value) for f in after])
        return new_prefix, new_suffix

    def counts(self) -> list[dict[str, object]]:
        """``[{"kind", "count"}]`` sorted by kind, for the trace."""
        return [{"kind": kind, "count": n} for kind, n in sorted(self._counts.items())]

    def mask(self, text: str) -> str:
        """``text`` with every known secret replaced by its placeholder (for logs and traces)."""
        for secret, token in sorted(self._placeholders.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(secret, token)
        return text

    def restore_line(self, line: str) -> str:
        """One line of model output with placeholders restored; ``""`` when one cannot be restored."""
        if "<ASSAY_SECRET_" not in line:
            return line
        unknown = False

        def swap(m: re.Match[str]) -> str:
            nonlocal unknown
            token = m.group(0)
            if token in self._secrets:
                return self._secrets[token]
            unknown = unknown or token not in self._literal
            return token

        restored = PLACEHOLDER.sub(swap, line)
        return "" if unknown else restored

    def restore(self, text: str) -> str:
        """A whole answer restored (see the module docstring); unchanged when nothing was redacted."""
        if not self:
            return text
        restorer = StreamRestorer(self)
        return restorer.feed(text) + restorer.flush()


class StreamRestorer:
    """Restores one streamed answer: ``feed`` pieces, then ``flush`` at the end."""

    def __init__(self, vault: SecretVault) -> None:
        self.vault = vault
        self._held = ""

    def feed(self, text: str) -> str:
        if not self.vault:
            return text
        self._held += text
        end = self._held.rfind("\n")
        if end < 0:
            return ""
        ready, self._held = self._held[:end + 1], self._held[end + 1:]
        return "".join(self.vault.restore_line(line) for line in ready.splitlines(keepends=True))

    def flush(self) -> str:
        rest, self._held = self._held, ""
        if not rest:
            return ""
        tail = rest[rest.rfind("<"):] if "<" in rest else ""
        if len(tail) >= _MIN_PARTIAL and _PARTIAL.search(tail):
            return ""
        return self.vault.restore_line(rest)
