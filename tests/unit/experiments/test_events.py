"""The POST /v1/events body model."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from assay.experiments import EventBatch, EventIn

BASE = {"id": "e1", "type": "shown", "suggestion_id": "s1", "user_id": "u", "timestamp": "2026-03-02T12:00:00"}


def test_naive_timestamps_are_utc() -> None:
    event = EventIn(**BASE)
    assert event.epoch == dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC).timestamp()
    assert EventIn(**{**BASE, "timestamp": "2026-03-02T14:00:00+02:00"}).epoch == event.epoch


@pytest.mark.parametrize(("change", "words"), [
    ({"type": "partially_accepted"}, "needs accepted_chars"),
    ({"type": "retained", "retained_chars": 4}, "checkpoint_s must be one of 30, 120, 300, 600"),
    ({"type": "retained", "checkpoint_s": 30}, "needs retained_chars"),
    ({"experiment": "ab"}, "experiment and arm must be given together"),
    ({"type": "clicked"}, "type"),
    ({"id": ""}, "id"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_events_are_rejected(change: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError) as err:
        EventIn(**{**BASE, **change})
    assert words in str(err.value)


def test_valid_partial_and_retained_events() -> None:
    assert EventIn(**{**BASE, "type": "partially_accepted", "accepted_chars": 0}).accepted_chars == 0
    assert EventIn(**{**BASE, "type": "retained", "retained_chars": 9, "checkpoint_s": 600}).checkpoint_s == 600
    with pytest.raises(ValidationError):
        EventBatch(events=[])
