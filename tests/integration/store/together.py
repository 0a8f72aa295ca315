"""Real processes (spawned, so they share nothing but the database) opening the same fresh database at the
same moment: the situation of gateway replicas starting together, or of ``assay serve`` and
``assay experiment analyze`` starting at once.

A :class:`Crowd` starts its processes once; for each URL of a job they meet at a barrier and then all call
the opener, so a round costs milliseconds and the start-up (importing assay) is paid once per crowd.
Openers are module-level functions (spawn sends them by name) that open a store at a URL and close it.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Sequence
from typing import Any

from assay.eval.store import RunStore
from assay.experiments import open_event_store
from assay.store import open_store

Opener = Callable[[str], None]


def key_store(url: str) -> None:
    open_store(url).close()


def event_store(url: str) -> None:
    open_event_store(url).close()


def run_store(url: str) -> None:
    RunStore(url).close()


def _worker(inbox: Any, outbox: Any, barrier: Any, timeout_s: float) -> None:
    while (job := inbox.get()) is not None:
        opener, urls = job
        failures = []
        for url in urls:
            barrier.wait(timeout_s)
            try:
                opener(url)
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                failures.append(f"{url}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        outbox.put(failures)


class Crowd:
    """``processes`` spawned processes that open databases together, on request, until :meth:`close`."""

    def __init__(self, processes: int = 4, timeout_s: float = 60) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.timeout_s = timeout_s
        self._barrier = ctx.Barrier(processes)
        self._outbox = ctx.Queue()
        self._inboxes = [ctx.Queue() for _ in range(processes)]
        self._workers = [ctx.Process(target=_worker, args=(inbox, self._outbox, self._barrier, timeout_s))
                         for inbox in self._inboxes]
        for w in self._workers:
            w.start()

    def open_together(self, opener: Opener, urls: Sequence[str]) -> list[str]:
        """For each of ``urls`` in turn, every process calls ``opener(url)`` at the same moment; returns one
        line (``url: ErrorType: message``) per failed call, empty when every open succeeded."""
        for inbox in self._inboxes:
            inbox.put((opener, list(urls)))
        try:
            return [line for _ in self._inboxes for line in self._outbox.get(timeout=self.timeout_s)]
        except queue.Empty:
            raise AssertionError(f"the processes opening {urls[0]} did not finish within {self.timeout_s} s") from None

    def close(self) -> None:
        for inbox in self._inboxes:
            inbox.put(None)
        for w in self._workers:
            w.join(self.timeout_s)
            if w.is_alive():
                w.kill()
