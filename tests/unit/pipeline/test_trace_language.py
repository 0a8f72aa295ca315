"""The trace store, stage timings, and language detection as the pipeline uses it."""

from __future__ import annotations

import pytest

from assay.pipeline.language import language_of
from assay.pipeline.trace import TraceStore, new_trace_id, timed
from assay.pipeline.types import CompletionInput, Trace


def test_trace_ids_are_uuid4_hex() -> None:
    ids = {new_trace_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_store_keeps_only_the_last_traces() -> None:
    store = TraceStore(3)
    traces = [store.new(model="m") for _ in range(5)]
    assert len(store) == 3
    assert store.get(traces[0].id) is None and store.get(traces[1].id) is None
    assert store.get(traces[4].id) is traces[4]


def test_zero_capacity_keeps_nothing() -> None:
    store = TraceStore(0)
    assert store.get(store.new().id) is None


def test_timed_records_even_on_error() -> None:
    trace = Trace(id="t")
    with pytest.raises(ValueError), timed(trace, "boom"):
        raise ValueError("x")
    with timed(trace, "ok"):
        pass
    assert [t.stage for t in trace.timings] == ["boom", "ok"]
    assert all(t.ms >= 0 for t in trace.timings)
    assert trace.as_dict()["timings"][0]["stage"] == "boom"


@pytest.mark.parametrize(("file_name", "language_id", "expected"), [
    ("src/app.py", None, "python"),
    ("main.go", "python", "go"),
    (None, "typescriptreact", "tsx"),
    ("Dockerfile", None, "dockerfile"),
    ("notes.unknown", "rust", "rust"),
    ("notes.unknown", None, None),
])
def test_language_of(file_name: str | None, language_id: str | None, expected: str | None) -> None:
    lang = language_of(CompletionInput(prefix="", file_name=file_name, language_id=language_id))
    assert (lang.id if lang else None) == expected
