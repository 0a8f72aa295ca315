"""The secret rules: one regular expression per kind of credential, most specific first.

Each rule names the kind it finds and which regex group holds the secret (0 = the whole match). Only
the secret is replaced; the surrounding name (``password = "…"``) stays so the model still sees the
shape of the code. Decisions:

* Documentation example keys (``AKIAIOSFODNN7EXAMPLE``, ``wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY``)
  are redacted like any other key: rules go by shape, and a key-shaped string costs nothing to hide.
* Stripe *publishable* keys (``pk_live_…``) are public by design and are not redacted; secret
  (``sk_``), restricted (``rk_``) and webhook (``whsec_``) keys are.
* Named values (passwords, ``*_KEY``, ``*_TOKEN``, …) are judged in :mod:`assay.pipeline.redact.named`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    group: int = 0
    hints: tuple[str, ...] = ()
    """Literal pieces one of which every match contains (lower case when ``caseless``): a text
    without any of them is not scanned, which keeps detection fast on ordinary code."""
    caseless: bool = False

    def may_match(self, text: str, lowered: str) -> bool:
        haystack = lowered if self.caseless else text
        return not self.hints or any(h in haystack for h in self.hints)


def _rule(kind: str, pattern: str, group: int = 0, hints: tuple[str, ...] = ()) -> Rule:
    return Rule(kind, re.compile(pattern), group, hints, caseless=pattern.startswith("(?i)"))


_GITLAB_PREFIXES = ("glpat", "gldt", "glrt", "glptt", "glft", "glsoat", "glcbt", "glimt", "gloas", "glagent", "glwt",
                    "glffct", "glrtr")
_B64_BODY = r"[A-Za-z0-9+/=\s\\:,-]*"

RULES: tuple[Rule, ...] = (
    _rule("private_key",
          r"-----BEGIN[A-Z ]{0,20} PRIVATE KEY(?: BLOCK)?-----"
          r"(?:[\s\S]*?-----END[A-Z ]{0,20} PRIVATE KEY(?: BLOCK)?-----|" + _B64_BODY + ")",
          hints=("PRIVATE KEY",)),
    _rule("aws_access_key_id", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b",
          hints=("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA", "APKA", "ASCA")),
    _rule("aws_secret_access_key",
          r"(?i)aws[\w.-]{0,30}?secret[\w.-]{0,30}[\"']?\s*(?::=|=>|=|:|,)\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
          group=1, hints=("aws",)),
    _rule("gcp_api_key", r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])", hints=("AIza",)),
    _rule("gcp_oauth_secret", r"\bGOCSPX-[A-Za-z0-9_-]{28}(?![A-Za-z0-9_-])", hints=("GOCSPX-",)),
    _rule("gcp_access_token", r"\bya29\.[0-9A-Za-z_-]{30,}", hints=("ya29.",)),
    _rule("azure_storage_key",
          r"(?i)\b(?:AccountKey|SharedAccessKey|AccessKey|PrimaryKey|SecondaryKey)\s*=\s*([A-Za-z0-9+/]{20,}={0,2})",
          group=1,
          hints=("accountkey", "accesskey", "primarykey", "secondarykey")),
    _rule("azure_sas_signature", r"(?i)[?&;]sig=([A-Za-z0-9%+/]{20,}(?:%3D|=){0,2})", group=1, hints=("sig=",)),
    _rule("azure_client_secret", r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
          hints=("Q~",)),
    _rule("gitlab_token",
          r"\b(?:" + "|".join(_GITLAB_PREFIXES) + ")-"
          r"[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]{2,})*",
          hints=tuple(f"{p}-" for p in _GITLAB_PREFIXES)),
    _rule("gitlab_runner_token", r"\bGR1348941[A-Za-z0-9_-]{20,}", hints=("GR1348941",)),
    _rule("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
          hints=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    _rule("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}",
          hints=("hooks.slack.com",)),
    _rule("slack_token", r"\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})", hints=("xox", "xapp-")),
    _rule("stripe_key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b|\bwhsec_[A-Za-z0-9]{24,}\b",
          hints=("_live_", "_test_", "whsec_")),
    _rule("anthropic_key", r"\bsk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{20,}", hints=("sk-ant-",)),
    _rule("openai_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}", hints=("sk-",)),
    _rule("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", hints=("npm_",)),
    _rule("pypi_token", r"\bpypi-AgE[A-Za-z0-9_-]{50,}", hints=("pypi-AgE",)),
    _rule("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b", hints=("SG.",)),
    _rule("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}", hints=("eyJ",)),
    _rule("connection_string_password",
          r"(?i)\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@'\"]{0,64}:([^\s@'\"/]{1,128})@[A-Za-z0-9.-]", group=1,
          hints=("://",)),
)
