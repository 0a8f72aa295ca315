"""Who is calling: the result of authentication, whatever the credential was."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AuthKind = Literal["key", "gitlab", "self_signed", "admin_token", "bypass", "none"]

ALL_SCOPES = ("complete_code", "generate_code", "chat", "events", "admin")


@dataclass(frozen=True)
class Principal:
    user: str
    kind: AuthKind
    scopes: frozenset[str]
    key_id: str | None = None
    issuer: str | None = None
    requests_per_minute: int | None = None
    """Per-key override of ``limits.requests_per_minute`` (None: the default)."""
    tokens_per_day: int | None = None
    unrestricted: bool = False
    """Every scope and every issuer rule passes (``--no-auth``, the bypass header)."""

    def has_any(self, scopes: frozenset[str]) -> bool:
        return self.unrestricted or bool(self.scopes & scopes)


def local_user() -> Principal:
    return Principal(user="local", kind="none", scopes=frozenset(ALL_SCOPES), unrestricted=True)
