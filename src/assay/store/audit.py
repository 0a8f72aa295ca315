"""The append-only audit log: who called which feature with which model, when, with how many tokens.

There is no update or delete path. Each record carries ``hash = sha256(prev_hash + canonical JSON of the
record)``, so :meth:`AuditLog.verify` detects an edited, removed or reordered row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.store.db import AuditHeadRow, AuditRow

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One call, as the gateway records it."""

    at: float
    user: str
    key_id: str | None
    auth: str
    """How the caller authenticated: ``key``, ``gitlab``, ``self_signed``, ``admin_token``, ``bypass``, ``none``."""
    method: str
    path: str
    feature: str
    model: str | None
    status: int
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class AuditRecord(AuditEntry):
    seq: int = 0
    prev_hash: str = GENESIS
    hash: str = ""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


_FIELDS = [f for f in AuditEntry.__dataclass_fields__]


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    data = {k: getattr(entry, k) for k in _FIELDS}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _record(row: AuditRow) -> AuditRecord:
    return AuditRecord(**{k: getattr(row, k) for k in _FIELDS}, seq=row.seq, prev_hash=row.prev_hash,
                       hash=row.hash)


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, entry: AuditEntry) -> AuditRecord:
        """Append ``entry`` to the chain. The head row serialises appenders (its UPDATE locks it); the first
        appends of a new log race to create it, and the loser of that race retries once the row exists
        (before, on PostgreSQL, it lost its record to a unique violation)."""
        try:
            return self._append(entry)
        except IntegrityError:  # another appender created the head row first: it exists now
            return self._append(entry)

    def _append(self, entry: AuditEntry) -> AuditRecord:
        with Session(self.engine) as session, session.begin():
            locked = session.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1)
                                     .values(appends=AuditHeadRow.appends + 1)).rowcount
            if not locked:
                session.add(AuditHeadRow(id=1, appends=1))
                session.flush()
            prev = session.scalar(select(AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)) or GENESIS
            values = {**asdict(entry), "prev_hash": prev, "hash": _digest(prev, entry)}
            seq = session.execute(insert(AuditRow).values(**values)).inserted_primary_key[0]
        return AuditRecord(**asdict(entry), seq=seq, prev_hash=prev, hash=values["hash"])

    def query(self, user: str | None = None, since: float | None = None, limit: int | None = None) -> list[AuditRecord]:
        """Records in order, optionally of one ``user`` and from the epoch time ``since``."""
        stmt = select(AuditRow).order_by(AuditRow.seq)
        if user is not None:
            stmt = stmt.where(AuditRow.user == user)
        if since is not None:
            stmt = stmt.where(AuditRow.at >= since)
        if limit is not None:
            stmt = stmt.limit(limit)
        with Session(self.engine) as session:
            return [_record(r) for r in session.scalars(stmt)]

    def verify(self) -> int | None:
        """The ``seq`` of the first record whose chain link or content does not check out; None when intact."""
        prev = GENESIS
        with Session(self.engine) as session:
            for row in session.scalars(select(AuditRow).order_by(AuditRow.seq)):
                record = _record(row)
                entry = AuditEntry(**{k: getattr(record, k) for k in _FIELDS})
                if row.prev_hash != prev or row.hash != _digest(prev, entry):
                    return row.seq
                prev = row.hash
        return None
