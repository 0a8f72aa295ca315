"""Secret scrubbing: credentials in source text are replaced by placeholders before training.

Covered: PEM private keys, AWS access key ids and secret keys, GitHub / GitLab / Slack / Stripe /
OpenAI / Anthropic / Google API tokens, JSON web tokens, credentials in URLs, and string literals
assigned to names like ``password``, ``secret``, ``token`` or ``api_key``. Placeholders look like
``<SECRET_KIND>`` so a model learns the shape of code without learning anyone's keys.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

_PRIVATE_KEY = re.compile(r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----"
                          r"[A-Za-z0-9+/=\s:,\-\\\"']*?-----END \1-----")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{40,}")
_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA)[0-9A-Z]{16}\b"), "<AWS_ACCESS_KEY_ID>"),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
     "<GITHUB_TOKEN>"),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), "<GITLAB_TOKEN>"),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), "<SLACK_TOKEN>"),
    ("stripe_key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b"), "<STRIPE_KEY>"),
    ("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}\b"), "<ANTHROPIC_API_KEY>"),
    ("openai_key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b"), "<OPENAI_API_KEY>"),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), "<GOOGLE_API_KEY>"),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"), "<JWT>"),
    ("url_credentials", re.compile(r"(?<=://)[^/\s:@'\"<>]+:[^/\s@'\"<>]+(?=@)"), "<USER>:<PASSWORD>"),
)

_ASSIGNMENT = re.compile(
    r"""(?P<key>\b[\w.-]*?(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?key|private[_-]?key|client[_-]?secret|secret[_-]?key)s?["']?)
        (?P<op>\s*(?::=|=>|=|:)\s*)
        (?P<quote>["'`])(?P<value>[^"'`\n]{6,})(?P=quote)""",
    re.IGNORECASE | re.VERBOSE)
_NOT_A_SECRET = re.compile(r"^(?:<[A-Z_:]+>|\$\{?\w+\}?|%\(?\w+\)?s|\{\{.*\}\}|x+|\*+|\.+|your[_\s-].*|changeme|"
                           r"example|placeholder|dummy|test|none|null|password|secret|token)$", re.IGNORECASE)
_AWS_SECRET_KEY = re.compile(r"(?i)aws.{0,20}?(?:secret|private).{0,20}?['\"]([A-Za-z0-9/+=]{40})['\"]")


@dataclass
class ScrubResult:
    text: str
    found: Counter[str] = field(default_factory=Counter)
    """How many secrets of each kind were replaced."""

    @property
    def count(self) -> int:
        return sum(self.found.values())


def scrub_secrets(text: str) -> ScrubResult:
    """Replace every recognised secret in ``text`` by its placeholder."""
    found: Counter[str] = Counter()

    def _private_key(match: re.Match[str]) -> str:
        if not _BASE64_RUN.search(match.group(0)):
            return match.group(0)
        found["private_key"] += 1
        return "<PRIVATE_KEY>"

    text = _PRIVATE_KEY.sub(_private_key, text)
    for kind, pattern, placeholder in _PATTERNS:
        text, n = pattern.subn(placeholder, text)
        if n:
            found[kind] += n

    def _aws_secret(match: re.Match[str]) -> str:
        found["aws_secret_key"] += 1
        start, end = match.span(1)
        whole = match.group(0)
        offset = match.start(0)
        return whole[: start - offset] + "<AWS_SECRET_ACCESS_KEY>" + whole[end - offset:]

    text = _AWS_SECRET_KEY.sub(_aws_secret, text)

    def _assignment(match: re.Match[str]) -> str:
        value = match.group("value")
        stripped = value.strip()
        looks_random = any(ch.isdigit() or ch in "+/=!@#$%^&*~?" for ch in stripped)
        if _NOT_A_SECRET.match(stripped) or " " in stripped or not looks_random:
            return match.group(0)
        found["password_assignment"] += 1
        quote = match.group("quote")
        return f"{match.group('key')}{match.group('op')}{quote}<SECRET>{quote}"

    text = _ASSIGNMENT.sub(_assignment, text)
    return ScrubResult(text, found)
