"""Target filters in the event store, on SQLite and the real PostgreSQL (``db_url``): exposures by their
recorded target, events by their suggestion's exposure, and an event store created before the ``target``
column existed, upgraded on open."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, inspect, text

from assay.config import ExperimentConfig
from assay.experiments import Exposure, open_event_store, user_table
from assay.experiments.events import StoredEvent

T0 = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC).timestamp()
SERVED = {"c1": "code_completions", "g1": "code_generations", "i1": "infill", "f1": "feature:fix_code",
          "f2": "feature:explain_code"}
"""Suggestion (trace) id → the target its exposure recorded."""
OLD_EXPOSURES = """CREATE TABLE experiment_exposures (
    seq {seq} PRIMARY KEY, experiment VARCHAR(100) NOT NULL, arm VARCHAR(100) NOT NULL,
    user_id VARCHAR(200) NOT NULL, at FLOAT NOT NULL, trace_id VARCHAR(64), latency_ms FLOAT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, error BOOLEAN NOT NULL, cost FLOAT NOT NULL)"""
"""The exposures table as the store created it before targets were recorded."""


def _exposure(trace_id: str, target: str, user: str = "u1", arm: str = "control") -> Exposure:
    return Exposure(experiment="ctx", arm=arm, user_id=user, at=T0, trace_id=trace_id, latency_ms=10.0,
                    prompt_tokens=3, completion_tokens=2, error=False, cost=0.0, target=target)


def _shown(suggestion: str, user: str = "u1", arm: str = "control") -> StoredEvent:
    return StoredEvent(id=f"{suggestion}-shown", type="shown", suggestion_id=suggestion, user_id=user,
                       experiment="ctx", arm=arm, at=T0 + 1)


@pytest.mark.parametrize(("wanted", "suggestions"), [
    (None, {"c1", "g1", "i1", "f1", "f2", "mine"}),
    ("code_completions", {"c1", "mine"}),
    ("code_generations", {"g1"}),
    ("infill", {"i1"}),
    ("features", {"f1", "f2"}),
    ("feature:fix_code", {"f1"}),
    ("feature:summarize_merge_request", set()),
])
def test_exposures_and_events_are_filtered_by_target(db_url: str, wanted: str | None, suggestions: set[str]) -> None:
    """An event whose suggestion id no exposure has (``mine``: a client's own id) is a code completion, and
    counts in no experiment, though it names one."""
    store = open_event_store(db_url)
    try:
        store.add_exposures([_exposure(s, t) for s, t in SERVED.items()])
        store.add_events([_shown(s) for s in [*SERVED, "mine"]])
        assert {x.trace_id for x in store.exposures("ctx", wanted)} == suggestions - {"mine"}
        assert {e.suggestion_id for e in store.events(experiment="ctx", target=wanted)} == suggestions - {"mine"}
        assert {e.suggestion_id for e in store.events(users=["u1"], target=wanted)} == suggestions
    finally:
        store.close()


def _create_old_store(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(OLD_EXPOSURES.format(seq="SERIAL" if engine.dialect.name == "postgresql" else "INTEGER")))
            conn.execute(text("INSERT INTO experiment_exposures (experiment, arm, user_id, at, trace_id, latency_ms, "
                              "prompt_tokens, completion_tokens, error, cost) VALUES ('ctx', 'control', 'u1', :at, "
                              "'old', 40.0, 3, 2, :error, 0.5)"), {"at": T0, "error": False})
    finally:
        engine.dispose()


def _schema(url: str) -> tuple[set[str], set[str]]:
    """Columns and index names of the exposures table."""
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return ({c["name"] for c in inspector.get_columns("experiment_exposures")},
                {i["name"] for i in inspector.get_indexes("experiment_exposures")})
    finally:
        engine.dispose()


def test_an_old_event_store_is_upgraded_on_open(db_url: str) -> None:
    _create_old_store(db_url)
    assert "target" not in _schema(db_url)[0]
    store = open_event_store(db_url)
    try:
        columns, indexes = _schema(db_url)
        assert "target" in columns and "ix_experiment_exposures_trace_id" in indexes
        [old] = store.exposures("ctx")
        assert (old.trace_id, old.target, old.latency_ms, old.cost) == ("old", "code_completions", 40.0, 0.5)
        store.add_exposures([_exposure("new", "infill", user="u2", arm="treatment")])
        store.add_events([_shown("old"), _shown("new", user="u2", arm="treatment")])
    finally:
        store.close()

    store = open_event_store(db_url)
    try:
        assert [x.trace_id for x in store.exposures("ctx", "code_completions")] == ["old"]
        assert [(x.trace_id, x.target) for x in store.exposures("ctx", "infill")] == [("new", "infill")]
        assert [e.suggestion_id for e in store.events(target="code_completions")] == ["old"]
        assert [e.suggestion_id for e in store.events(target="infill")] == ["new"]
        experiment = ExperimentConfig(name="ctx", salt="s", arms=[{"name": "control"}, {"name": "treatment"}])
        completions = user_table(store, experiment, "code_completions")
        infill = user_table(store, experiment, "infill")
    finally:
        store.close()
    assert (completions.user_id.tolist(), completions.shown.tolist(), completions.requests.tolist()) == (["u1"], [1], [1])
    assert (infill.user_id.tolist(), infill.arm.tolist(), infill.shown.tolist()) == (["u2"], ["treatment"], [1])
