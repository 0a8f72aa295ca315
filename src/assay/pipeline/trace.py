"""Per-request traces: a bounded in-memory store and a stage timer."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from assay.errors import AssayError
from assay.pipeline.types import StageTiming, Trace


def new_trace_id() -> str:
    """A fresh trace id (uuid4, 32 hex characters)."""
    return uuid.uuid4().hex


class TraceStore:
    """Keeps the last ``capacity`` traces by id; older ones are forgotten first (FIFO by creation)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("trace store capacity must be >= 0")
        self.capacity = capacity
        self._traces: OrderedDict[str, Trace] = OrderedDict()

    def new(self, model: str = "") -> Trace:
        """Create, store and return an empty trace with a new id."""
        trace = Trace(id=new_trace_id(), model=model)
        self.add(trace)
        return trace

    def add(self, trace: Trace) -> None:
        if self.capacity == 0:
            return
        self._traces[trace.id] = trace
        self._traces.move_to_end(trace.id)
        while len(self._traces) > self.capacity:
            self._traces.popitem(last=False)

    def get(self, trace_id: str) -> Trace | None:
        return self._traces.get(trace_id)

    def __len__(self) -> int:
        return len(self._traces)


@contextmanager
def timed(trace: Trace, stage: str) -> Iterator[None]:
    """Append a ``StageTiming`` for ``stage`` to ``trace`` when the block ends (also on error)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        trace.timings.append(StageTiming(stage=stage, ms=round((time.perf_counter() - start) * 1000, 3)))


@contextmanager
def records_error(trace: Trace) -> Iterator[None]:
    """Set ``trace.error`` from any exception leaving the block (an ``AssayError``'s message, else
    ``"<Type>: <text>"``) and re-raise it."""
    try:
        yield
    except AssayError as exc:
        trace.error = exc.message
        raise
    except Exception as exc:
        trace.error = f"{type(exc).__name__}: {exc}"
        raise
