"""API keys: ``assay_<key id>_<secret>``, shown once; only a salted scrypt hash of the secret is stored.

A key carries a user, scopes, an optional expiry and optional per-key limits; revoking sets
``revoked_at`` (rows are never deleted, so the audit log keeps naming them).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assay.errors import AuthError, RequestInvalid
from assay.store.db import ApiKeyRow

KEY_PREFIX = "assay_"
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    user: str
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    requests_per_minute: int | None
    tokens_per_day: int | None

    def state(self, now: float | None = None) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and (now or time.time()) >= self.expires_at:
            return "expired"
        return "active"


@dataclass(frozen=True)
class CreatedKey:
    secret: str
    """The full key to hand to the user; it is not stored and cannot be shown again."""
    record: KeyRecord


def _hash(secret: str, salt: bytes) -> str:
    return hashlib.scrypt(secret.encode(), salt=salt, **SCRYPT).hex()


def _record(row: ApiKeyRow) -> KeyRecord:
    return KeyRecord(row.key_id, row.user, tuple(row.scopes), row.created_at, row.expires_at, row.revoked_at,
                     row.requests_per_minute, row.tokens_per_day)


def split_key(key: str) -> tuple[str, str]:
    """``(key_id, secret)`` of an ``assay_<id>_<secret>`` key; ``AuthError`` when malformed."""
    if not key.startswith(KEY_PREFIX):
        raise AuthError("not an assay API key (expected 'assay_<id>_<secret>')")
    key_id, sep, secret = key[len(KEY_PREFIX):].partition("_")
    if not sep or not key_id or not secret:
        raise AuthError("malformed assay API key (expected 'assay_<id>_<secret>')")
    return key_id, secret


class KeyStore:
    """Create, verify, list and revoke API keys."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._verified: dict[str, str] = {}

    def create(self, user: str, scopes: list[str], expires_in_s: float | None = None, *,
               requests_per_minute: int | None = None, tokens_per_day: int | None = None) -> CreatedKey:
        if not user.strip():
            raise RequestInvalid("must not be empty", field="user")
        if not scopes:
            raise RequestInvalid("name at least one scope", field="scopes")
        key_id, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(32), secrets.token_bytes(16)
        now = time.time()
        row = ApiKeyRow(key_id=key_id, user=user, scopes=sorted(set(scopes)), salt=salt.hex(),
                        hash=_hash(secret, salt), created_at=now,
                        expires_at=now + expires_in_s if expires_in_s else None, revoked_at=None,
                        requests_per_minute=requests_per_minute, tokens_per_day=tokens_per_day)
        with Session(self.engine) as session, session.begin():
            session.add(row)
            record = _record(row)
        return CreatedKey(f"{KEY_PREFIX}{key_id}_{secret}", record)

    def get(self, key_id: str) -> KeyRecord | None:
        with Session(self.engine) as session:
            row = session.get(ApiKeyRow, key_id)
            return _record(row) if row is not None else None

    def verify(self, key: str) -> KeyRecord:
        """The record of a valid, active key; ``AuthError`` saying why otherwise. The salted hash is
        compared in constant time; a key that verified once is remembered (by a SHA-256 of the key) so
        scrypt runs once per key and process, while revocation and expiry are read on every call."""
        key_id, secret = split_key(key)
        with Session(self.engine) as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise AuthError("unknown API key")
            digest = hashlib.sha256(key.encode()).hexdigest()
            remembered = self._verified.get(key_id)
            if remembered is None or not hmac.compare_digest(remembered, digest):
                if not hmac.compare_digest(_hash(secret, bytes.fromhex(row.salt)), row.hash):
                    raise AuthError("unknown API key")
                self._verified[key_id] = digest
            record = _record(row)
        state = record.state()
        if state != "active":
            raise AuthError(f"API key {key_id} is {state}")
        return record

    def list(self) -> list[KeyRecord]:
        with Session(self.engine) as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
            return [_record(r) for r in rows]

    def revoke(self, key_id: str) -> KeyRecord:
        """Revoke ``key_id`` (idempotent); ``RequestInvalid`` when no such key exists."""
        with Session(self.engine) as session, session.begin():
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise RequestInvalid(f"no API key with id '{key_id}'", field="key_id")
            if row.revoked_at is None:
                row.revoked_at = time.time()
            return _record(row)
