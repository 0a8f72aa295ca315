"""The durable event store: suggestion events, exposures and GitLab telemetry counters in the gateway's
database (``database.url``; SQLite at :func:`assay.store.default_url` by default, PostgreSQL by a
``postgresql+psycopg://`` URL). Tables are created on open.

Events are inserted with the dialect's insert-or-ignore on their primary key (the client's event id),
so a retried batch, or the same id twice in one batch, is counted once, also under concurrent writers.

Each exposure records its request's target (``code_completions``, ``code_generations``, ``infill``,
``feature:<id>``); an event's target is that of the exposure whose ``trace_id`` is the event's
``suggestion_id`` (a client's own id, or one served to no assigned user, is a code completion). Databases
created before the ``target`` column get it on open; their exposures (NULL) are code completions.

Attribution: an event belongs to the experiment(s) and arm(s) of the exposures whose ``trace_id`` is its
``suggestion_id`` (one request in several experiments has one exposure per experiment, all under the same
id), and to the user they were served to, whatever ``experiment``/``arm``/``user_id`` the event row names.
An event whose suggestion has no exposure (an id the gateway never served in an experiment) is
*unattributed*: stored, counted in no experiment, whatever it names (a client's claim is no evidence of
what was served). Attribution is decided when events are read, so an event posted before its
suggestion's exposure was written counts once it is. An event posted with no user and an id not (yet)
served is stored under :data:`UNKNOWN_USER`; its exposure, once written, gives it its user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from sqlalchemy import ColumnElement, Engine, Index, Select, exists, func, insert, select
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import Boolean, Float, Integer, String

from assay.errors import ConfigError
from assay.experiments.assign import COMPLETIONS, FEATURE_PREFIX
from assay.experiments.events import Exposure, StoredEvent, TelemetryCount
from assay.store import default_url, open_store
from assay.store.schema import create_tables
from assay.store.urls import as_url, sqlite_file

INSERT_CHUNK = 500
IDS_PER_QUERY = 1000
"""Values (user ids, suggestion ids) per ``IN (...)`` list, well under SQLite's limit on bound parameters."""
UNKNOWN_USER = ""
"""The stored user of an event posted without one for a suggestion with no exposure (yet)."""


class _Base(DeclarativeBase):
    pass


class EventRow(_Base):
    __tablename__ = "experiment_events"
    __table_args__ = (Index("ix_experiment_events_exp_user", "experiment", "user_id"),
                      Index("ix_experiment_events_user_at", "user_id", "at"))

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    suggestion_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(200))
    experiment: Mapped[str | None] = mapped_column(String(100), nullable=True)
    arm: Mapped[str | None] = mapped_column(String(100), nullable=True)
    at: Mapped[float] = mapped_column(Float)
    accepted_chars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    retained_chars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    checkpoint_s: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ExposureRow(_Base):
    __tablename__ = "experiment_exposures"
    __table_args__ = (Index("ix_experiment_exposures_trace_id", "trace_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    experiment: Mapped[str] = mapped_column(String(100), index=True)
    arm: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(200))
    at: Mapped[float] = mapped_column(Float)
    trace_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    error: Mapped[bool] = mapped_column(Boolean)
    cost: Mapped[float] = mapped_column(Float)
    target: Mapped[str | None] = mapped_column(String(64), nullable=True)


class TelemetryRow(_Base):
    __tablename__ = "experiment_telemetry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    user_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    experiment: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    variant: Mapped[int | None] = mapped_column(Integer, nullable=True)
    arm: Mapped[str | None] = mapped_column(String(100), nullable=True)
    model_engine: Mapped[str | None] = mapped_column(String(255), nullable=True)
    model_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lang: Mapped[str | None] = mapped_column(String(255), nullable=True)
    requests: Mapped[int] = mapped_column(Integer)
    accepts: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)


def _in_chunks(values: Iterable[str]) -> list[list[str]]:
    """``values``, deduplicated and sorted, in lists of at most :data:`IDS_PER_QUERY`."""
    wanted = sorted(set(values))
    return [wanted[i:i + IDS_PER_QUERY] for i in range(0, len(wanted), IDS_PER_QUERY)]


def _in_target(target: ColumnElement[str | None], wanted: str) -> ColumnElement[bool]:
    """SQL: ``target`` (NULL: code completions) is in the filter ``wanted`` (``features``: any feature)."""
    key = func.coalesce(target, COMPLETIONS.key)
    return key.startswith(FEATURE_PREFIX, autoescape=True) if wanted == "features" else key == wanted


def _suggestion_target() -> ColumnElement[str | None]:
    """SQL, inside a query of events: the target of the event's suggestion (see module doc)."""
    return (select(ExposureRow.target).where(ExposureRow.trace_id == EventRow.suggestion_id)
            .limit(1).scalar_subquery())


def _suggestion_user() -> ColumnElement[str | None]:
    """SQL, inside a query of events: the user the event's suggestion was served to (NULL: no exposure)."""
    return (select(ExposureRow.user_id).where(ExposureRow.trace_id == EventRow.suggestion_id)
            .limit(1).scalar_subquery())


def _event_user() -> ColumnElement[str]:
    """SQL, inside a query of events: the event's user, the gateway's record first (see module doc)."""
    return func.coalesce(_suggestion_user(), EventRow.user_id)


def _has_exposure() -> ColumnElement[bool]:
    """SQL, inside a query of events: some exposure (of any experiment) has the event's suggestion id."""
    return exists().where(ExposureRow.trace_id == EventRow.suggestion_id)


def _stored(row: EventRow, **attribution: str | None) -> StoredEvent:
    """The stored event of ``row`` with its attribution (experiment, arm, user) in place of what it was posted with."""
    fields = {k: getattr(row, k) for k in StoredEvent.__dataclass_fields__}
    return StoredEvent(**{**fields, **attribution})


def _within(stmt: Select, *, before: float | None, since: float | None, target: str | None) -> Select:
    """``stmt`` (a query of events) kept to ``[since, before)`` and the target filter ``target``."""
    if target is not None:
        stmt = stmt.where(_in_target(_suggestion_target(), target))
    if before is not None:
        stmt = stmt.where(EventRow.at < before)
    if since is not None:
        stmt = stmt.where(EventRow.at >= since)
    return stmt


def _exposure(row: ExposureRow) -> Exposure:
    fields = {k: getattr(row, k) for k in Exposure.__dataclass_fields__}
    return Exposure(**{**fields, "target": row.target or COMPLETIONS.key})


def _insert_ignoring_duplicates(engine: Engine):  # noqa: ANN202
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(EventRow)
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(EventRow)
    raise ConfigError(f"the event store supports SQLite and PostgreSQL, not {engine.dialect.name}")


@dataclass(frozen=True)
class Served:
    """What the gateway recorded of one served suggestion: its user and, per experiment, the arm that served it."""

    user_id: str
    arms: dict[str, str]


class EventStore:
    """Reads and writes experiment data; every method is synchronous (servers call it in a thread)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = _insert_ignoring_duplicates(engine)

    def add_events(self, events: Iterable[StoredEvent]) -> int:
        """Store events whose id is new; returns how many were stored (repeats are ignored)."""
        unique = list({e.id: e for e in events}.values())
        stored = 0
        with Session(self.engine) as session, session.begin():
            for start in range(0, len(unique), INSERT_CHUNK):
                rows = [asdict(e) for e in unique[start:start + INSERT_CHUNK]]
                stmt = self._insert.values(rows).on_conflict_do_nothing(index_elements=["id"]).returning(EventRow.id)
                stored += len(session.execute(stmt).all())
        return stored

    def add_exposures(self, exposures: Iterable[Exposure]) -> None:
        rows = [asdict(e) for e in exposures]
        if rows:
            with Session(self.engine) as session, session.begin():
                session.execute(insert(ExposureRow), rows)

    def add_telemetry(self, counts: Iterable[TelemetryCount]) -> None:
        rows = [asdict(c) for c in counts]
        if rows:
            with Session(self.engine) as session, session.begin():
                session.execute(insert(TelemetryRow), rows)

    def events(self, *, experiment: str | None = None, users: Iterable[str] | None = None,
               before: float | None = None, since: float | None = None, target: str | None = None) -> list[StoredEvent]:
        """Events in time order: attributed to one ``experiment`` (see module doc; each then carries that
        experiment, the arm that served its suggestion and the user it was served to) and/or of ``users``
        (by attributed user), in ``[since, before)``, of suggestions in the target filter ``target`` (see
        :func:`~assay.experiments.assign.check_target_filter`). Without ``experiment``, events carry the
        ``experiment``/``arm`` they were posted with and their attributed user."""
        if experiment is None:
            stmt = _within(select(EventRow, _event_user()), before=before, since=since, target=target)
            rows = [(r, {"user_id": user}) for r, user in self._rows(stmt, users)]
        else:
            exposed = (select(ExposureRow.trace_id, func.min(ExposureRow.arm).label("arm"),
                              func.min(ExposureRow.user_id).label("user_id"))
                       .where(ExposureRow.experiment == experiment, ExposureRow.trace_id.is_not(None))
                       .group_by(ExposureRow.trace_id).subquery())
            stmt = select(EventRow, exposed.c.arm, exposed.c.user_id).join(
                exposed, exposed.c.trace_id == EventRow.suggestion_id)
            stmt = _within(stmt, before=before, since=since, target=target)
            rows = [(r, {"experiment": experiment, "arm": arm, "user_id": user})
                    for r, arm, user in self._rows(stmt, users)]
        rows.sort(key=lambda pair: (pair[0].at, pair[0].id))
        return [_stored(r, **attribution) for r, attribution in rows]

    def unattributed(self, *, users: Iterable[str], since: float | None = None, target: str | None = None) -> int:
        """How many events of ``users``, or posted with no user (:data:`UNKNOWN_USER`), at or after ``since``
        and of the target filter ``target``, belong to no experiment: their suggestion id has no exposure,
        whatever experiment and arm they name."""
        stmt = _within(select(EventRow.id).where(~_has_exposure()), before=None, since=since, target=target)
        with Session(self.engine) as session:
            userless = len(session.execute(stmt.where(EventRow.user_id == UNKNOWN_USER)).all())
        return userless + len(self._rows(stmt, [u for u in users if u != UNKNOWN_USER]))

    def served(self, suggestion_ids: Iterable[str]) -> dict[str, Served]:
        """Suggestion id → what the gateway recorded of it (ids without an exposure are left out); the first
        exposure of an id gives its user."""
        out: dict[str, Served] = {}
        with Session(self.engine) as session:
            for chunk in _in_chunks(suggestion_ids):
                stmt = (select(ExposureRow.trace_id, ExposureRow.user_id, ExposureRow.experiment, ExposureRow.arm)
                        .where(ExposureRow.trace_id.in_(chunk)).order_by(ExposureRow.seq))
                for trace_id, user, experiment, arm in session.execute(stmt):
                    out.setdefault(trace_id, Served(user, {})).arms.setdefault(experiment, arm)
        return out

    def _rows(self, stmt: Select, users: Iterable[str] | None) -> list[tuple]:
        """The rows of ``stmt`` (a query of events), of ``users`` (by attributed user) when given, one query per
        :func:`_in_chunks` list."""
        statements = [stmt] if users is None else [stmt.where(_event_user().in_(c)) for c in _in_chunks(users)]
        with Session(self.engine) as session:
            return [tuple(r) for s in statements for r in session.execute(s)]

    def exposures(self, experiment: str, target: str | None = None) -> list[Exposure]:
        """The experiment's exposures in the order written (of the target filter ``target`` when given)."""
        stmt = select(ExposureRow).where(ExposureRow.experiment == experiment).order_by(ExposureRow.seq)
        if target is not None:
            stmt = stmt.where(_in_target(ExposureRow.target, target))
        with Session(self.engine) as session:
            return [_exposure(r) for r in session.scalars(stmt)]

    def telemetry(self, experiment: str | None = None) -> list[TelemetryCount]:
        stmt = select(TelemetryRow).order_by(TelemetryRow.seq)
        if experiment is not None:
            stmt = stmt.where(TelemetryRow.experiment == experiment)
        with Session(self.engine) as session:
            return [TelemetryCount(**{k: getattr(r, k) for k in TelemetryCount.__dataclass_fields__})
                    for r in session.scalars(stmt)]

    def experiments(self) -> list[str]:
        """Names of experiments with exposures (the only ones events can count in), sorted."""
        with Session(self.engine) as session:
            return sorted(session.scalars(select(ExposureRow.experiment).distinct()))

    def close(self) -> None:
        self.engine.dispose()


def open_event_store(url: str | None = None, *, existing: bool = False) -> EventStore:
    """Open the event store at ``url`` (a SQLAlchemy URL or a SQLite file's path; default: the gateway's
    database), creating its tables (safely when several processes open a fresh database at once) and adding
    the columns and indexes an older one lacks. ``ConfigError`` names a ``url`` SQLAlchemy cannot use, and
    with ``existing`` (readers: ``assay experiment analyze``) a SQLite file that does not exist, rather than
    creating an empty database at a mistyped path."""
    url = as_url(url) if url else None
    if existing:
        path = sqlite_file(url or default_url())
        if path is not None and not path.exists():
            raise ConfigError(f"the event store {path} does not exist (give --db the gateway's database: "
                              "database.url of its assay.yaml)")
    try:
        engine = open_store(url).engine
    except ArgumentError as exc:
        raise ConfigError(f"cannot open the event store {url}: not a database URL or a file path ({exc})") from None
    try:
        create_tables(engine, _Base.metadata, add_missing=True)
    except SQLAlchemyError as exc:
        raise ConfigError(f"cannot open the event store {url or default_url()}: {type(exc).__name__}: {exc}") from None
    return EventStore(engine)
