"""The event store against SQLite and a real PostgreSQL server (same tests, parametrized by ``db_url``)."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest

from assay.config import ExperimentConfig
from assay.experiments import EventStore, Exposure, TelemetryCount, open_event_store, user_table
from assay.experiments.events import StoredEvent
from tests.integration.experiments.analyzing import analyze

DAY = 86_400.0
T0 = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC).timestamp()
EXP = ExperimentConfig(name="ctx", salt="s", arms=[{"name": "control"}, {"name": "treatment"}],
                       start=dt.datetime.fromtimestamp(T0, dt.UTC), pre_period_days=7)


def _ev(id: str, type: str, user: str, suggestion: str, at: float, arm: str | None = "control",
        **kw: object) -> StoredEvent:
    return StoredEvent(id=id, type=type, suggestion_id=suggestion, user_id=user,
                       experiment="ctx" if arm else None, arm=arm, at=at, **kw)  # type: ignore[arg-type]


def _exp(user: str, arm: str, at: float, latency: float, error: bool = False, cost: float = 0.5,
         trace: str | None = None) -> Exposure:
    return Exposure(experiment="ctx", arm=arm, user_id=user, at=at, trace_id=trace, latency_ms=latency,
                    prompt_tokens=10, completion_tokens=5, error=error, cost=cost)


def _served(store: EventStore, *served: tuple[str, str, str]) -> None:
    """Record that the gateway served suggestions ``(suggestion, user, arm)`` in ``ctx``: events count
    in an experiment only by the exposure of their suggestion id."""
    store.add_exposures([_exp(user, arm, T0 - 1, 10.0, trace=s) for s, user, arm in served])


def test_duplicate_ids_are_stored_once_within_and_across_batches(db_url: str) -> None:
    store = open_event_store(db_url)
    try:
        first = [_ev("e1", "shown", "u1", "s1", T0), _ev("e2", "accepted", "u1", "s1", T0 + 1),
                 _ev("e1", "shown", "u1", "s1", T0)]
        assert store.add_events(first) == 2
        _served(store, ("s1", "u1", "control"), ("s2", "u1", "control"))
        assert store.add_events([_ev("e2", "accepted", "u1", "s1", T0 + 1), _ev("e3", "rejected", "u1", "s2", T0)]) == 1
        assert [e.id for e in store.events(experiment="ctx")] == ["e1", "e3", "e2"]
    finally:
        store.close()


def test_concurrent_writers_of_the_same_ids_store_each_once(db_url: str) -> None:
    store = open_event_store(db_url)
    batch = [_ev(f"c{i}", "shown", f"u{i % 3}", f"s{i}", T0 + i) for i in range(50)]
    counts: list[int] = []

    def write() -> None:
        counts.append(store.add_events(batch))

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sum(counts) == 50
        assert len(store.events()) == 50
    finally:
        store.close()


def test_events_keep_their_fields_and_filters_work(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_event_store(db_url)
    try:
        store.add_events([
            _ev("p", "partially_accepted", "u1", "s1", T0, accepted_chars=7),
            _ev("r", "retained", "u1", "s1", T0 + 30, retained_chars=5, checkpoint_s=30),
            _ev("old", "shown", "u2", "s0", T0 - DAY, arm=None),
        ])
        _served(store, ("s1", "u1", "control"))
        partial = store.events(users=["u1"], before=T0 + 1)
        assert partial == [_ev("p", "partially_accepted", "u1", "s1", T0, accepted_chars=7)]
        assert store.events(since=T0 + 10)[0].retained_chars == 5
        assert [e.id for e in store.events(users=["u2"])] == ["old"]
        monkeypatch.setattr("assay.experiments.store.IDS_PER_QUERY", 1)
        assert [e.id for e in store.events(users=["u2", "u1", "u9"])] == ["old", "p", "r"]
        assert store.experiments() == ["ctx"]
    finally:
        store.close()


def test_exposures_and_telemetry_round_trip(db_url: str) -> None:
    store = open_event_store(db_url)
    try:
        store.add_exposures([_exp("u1", "control", T0, 12.5, error=True, cost=0.25)])
        count = TelemetryCount(at=T0, user_id="u1", experiment="ctx", variant=1, arm="treatment", model_engine="echo",
                               model_name="b", lang="python", requests=4, accepts=1, errors=0)
        store.add_telemetry([count])
        assert store.exposures("ctx") == [_exp("u1", "control", T0, 12.5, error=True, cost=0.25)]
        assert store.exposures("other") == []
        assert store.telemetry("ctx") == [count]
    finally:
        store.close()


def _fill(store: EventStore) -> None:
    events = [
        # u1 (control): day 1 two suggestions, one accepted; day 2 one accepted without its shown event.
        _ev("a1", "shown", "u1", "s1", T0 + 10), _ev("a2", "accepted", "u1", "s1", T0 + 11),
        _ev("a3", "shown", "u1", "s2", T0 + 20), _ev("a4", "rejected", "u1", "s2", T0 + 21),
        _ev("a5", "accepted", "u1", "s3", T0 + DAY + 5),
        # u2 (treatment): one partially accepted, one shown.
        _ev("b1", "shown", "u2", "t1", T0 + 30, arm="treatment"),
        _ev("b2", "partially_accepted", "u2", "t1", T0 + 31, arm="treatment", accepted_chars=3),
        _ev("b3", "shown", "u2", "t2", T0 + 40, arm="treatment"),
        # pre-period of u1 (no experiment): 3 shown, 2 accepted; one too early to count.
        _ev("p1", "shown", "u1", "q1", T0 - DAY, arm=None), _ev("p2", "accepted", "u1", "q1", T0 - DAY + 1, arm=None),
        _ev("p3", "shown", "u1", "q2", T0 - 2 * DAY, arm=None), _ev("p4", "accepted", "u1", "q2", T0 - 2 * DAY, arm=None),
        _ev("p5", "shown", "u1", "q3", T0 - 3 * DAY, arm=None),
        _ev("p6", "shown", "u1", "q4", T0 - 8 * DAY, arm=None),
    ]
    store.add_events(events)
    store.add_exposures([_exp("u1", "control", T0 + 9, 100.0, trace="s1"),
                         _exp("u1", "control", T0 + 19, 200.0, error=True, trace="s2"),
                         _exp("u1", "control", T0 + DAY + 4, 100.0, trace="s3"),
                         _exp("u2", "treatment", T0 + 29, 300.0, trace="t1"),
                         _exp("u2", "treatment", T0 + 39, 300.0, trace="t2"), _exp("u3", "treatment", T0 + 50, 50.0)])


def test_user_table_counts_suggestions_per_user_and_day(db_url: str) -> None:
    store = open_event_store(db_url)
    try:
        _fill(store)
        table = user_table(store, EXP)
    finally:
        store.close()
    assert table.arm_order == ("control", "treatment")
    rows = {(u, str(d)): i for i, (u, d) in enumerate(zip(table.user_id, table.date, strict=True))}
    day1, day2 = "2026-03-02", "2026-03-03"
    assert set(rows) == {("u1", day1), ("u1", day2), ("u2", day1), ("u3", day1)}
    u1d1, u1d2, u2, u3 = rows[("u1", day1)], rows[("u1", day2)], rows[("u2", day1)], rows[("u3", day1)]
    assert (table.shown[u1d1], table.accepted[u1d1]) == (2, 1)
    assert (table.shown[u1d2], table.accepted[u1d2]) == (1, 1)
    assert (table.shown[u2], table.accepted[u2]) == (2, 1)
    assert (table.shown[u3], table.requests[u3]) == (0, 1)
    assert (table.requests[u1d1], table.errors[u1d1], table.cost[u1d1]) == (2, 1, 1.0)
    assert np.array_equal(table.latency_ms[u1d1], [100.0, 200.0])
    assert (table.pre_shown[u1d1], table.pre_accepted[u1d1]) == (3, 2)
    assert (table.pre_shown[u2], table.pre_accepted[u2]) == (0, 0)
    per_user = table.per_user()
    assert per_user.shown.tolist() == [3, 2, 0] and per_user.accepted.tolist() == [2, 1, 0]


def test_retention_per_arm_and_checkpoint(db_url: str) -> None:
    from assay.experiments.aggregate import retention

    store = open_event_store(db_url)
    try:
        store.add_events([
            _ev("a", "partially_accepted", "u1", "s1", T0, accepted_chars=10),
            _ev("b", "retained", "u1", "s1", T0 + 30, retained_chars=8, checkpoint_s=30),
            _ev("c", "retained", "u1", "s1", T0 + 600, retained_chars=4, checkpoint_s=600),
            _ev("d", "accepted", "u2", "s2", T0),
            _ev("e", "retained", "u2", "s2", T0 + 30, retained_chars=6, checkpoint_s=30),
            _ev("f", "retained", "u3", "t1", T0 + 30, arm="treatment", retained_chars=1, checkpoint_s=120),
        ])
        _served(store, ("s1", "u1", "control"), ("s2", "u2", "control"), ("t1", "u3", "treatment"))
        result = {r.arm: r.points for r in retention(store, "ctx")}
    finally:
        store.close()
    assert [(p.checkpoint_s, p.suggestions, p.mean_retained_chars, p.retained_share) for p in result["control"]] == [
        (30, 2, 7.0, 0.8), (600, 1, 4.0, 0.4)]
    assert [(p.checkpoint_s, p.retained_share) for p in result["treatment"]] == [(120, None)]


def test_analyze_from_the_store_explains_what_is_missing(db_url: str) -> None:
    store = open_event_store(db_url)
    _fill(store)
    store.close()
    few = analyze("ctx", "--db", db_url)
    assert few.exit_code == 0, few.output
    assert "KEEP RUNNING" in few.output and "arm 'control': 1 user with shown suggestions" in few.output
    none = analyze("other", "--db", db_url)
    assert none.exit_code == 2 and "no exposures for experiment 'other'" in none.output
    assert "experiments with data: ctx" in none.output
