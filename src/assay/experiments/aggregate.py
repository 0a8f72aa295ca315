"""Events and exposures of one experiment → the per-user-per-day :class:`~assay.stats.table.UserTable`.

Per user and UTC day:

- ``shown`` / ``accepted``: distinct suggestions (by ``suggestion_id``) with a ``shown`` event / with an
  ``accepted`` or ``partially_accepted`` event; an accepted suggestion counts as shown even when its
  ``shown`` event was lost. A suggestion belongs to the day of its first event.
- ``requests``, ``errors``, ``cost``, ``latency_ms``: from the gateway's exposure records.
- ``pre_shown`` / ``pre_accepted``: the same user's suggestions (any experiment, or none) in the
  ``pre_period_days`` before the experiment's start (``start`` in its config, else its first exposure or event).

A user's arm is the one the gateway assigned (exposures). Events count by their attribution
(:mod:`assay.experiments.store`): the exposures with their ``suggestion_id`` give their user and arm. The
experiment's *unattributed* events are its users' events (and events posted with no user) since its start
that belong to no experiment (a suggestion id the gateway never served in one, whatever experiment and
arm the event names): :func:`from_store` counts them so that a client sending wrong ids shows up.

An experiment with exposures but no events yet (or with one arm only) still gives a table: its rows have
requests and no shown suggestions, and the analysis reports what it can.

``target`` keeps only the suggestions of one target (``code_generations``, ``feature:explain_code``,
``features`` for every feature): the store filters exposures by their recorded target and events by
their suggestion's (see :mod:`assay.experiments.store`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from assay.config import ExperimentConfig
from assay.errors import RequestInvalid
from assay.experiments.events import CHECKPOINTS_S, Exposure, StoredEvent
from assay.experiments.store import EventStore

if TYPE_CHECKING:
    from assay.stats.table import UserTable

ACCEPTING = frozenset({"accepted", "partially_accepted"})
DAY_S = 86_400.0


def _day(epoch: float) -> dt.date:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).date()


def _suggestions(events: Iterable[StoredEvent]) -> dict[tuple[str, str], tuple[float, bool, bool]]:
    """(user, suggestion) → (first event time, shown, accepted)."""
    out: dict[tuple[str, str], tuple[float, bool, bool]] = {}
    for e in events:
        key = (e.user_id, e.suggestion_id)
        first, shown, accepted = out.get(key, (e.at, False, False))
        accepted = accepted or e.type in ACCEPTING
        shown = shown or e.type == "shown" or accepted
        out[key] = (min(first, e.at), shown, accepted)
    return out


def planned_weights(experiment: ExperimentConfig) -> dict[str, float]:
    """Arm name → planned share of users (for the sample-ratio-mismatch test)."""
    total = sum(a.weight for a in experiment.arms)
    return {a.name: a.weight / total for a in experiment.arms}


@dataclass(frozen=True)
class _Observed:
    """What the store holds for one experiment: its exposures, attributed events, users' arms and start."""

    name: str
    config: ExperimentConfig | None
    exposures: list[Exposure]
    events: list[StoredEvent]
    arm_of: dict[str, str]
    start: float


def _observe(store: EventStore, experiment: ExperimentConfig | str, target: str | None) -> _Observed:
    config = experiment if isinstance(experiment, ExperimentConfig) else None
    name = config.name if config else str(experiment)
    exposures = store.exposures(name, target)
    events = store.events(experiment=name, target=target)
    if not exposures and not events:
        known = ", ".join(store.experiments()) or "none"
        of_target = f" on target '{target}'" if target else ""
        raise RequestInvalid(f"the event store has no exposures for experiment '{name}'{of_target}; "
                             f"experiments with data: {known}")
    arm_of: dict[str, str] = {}
    for x in exposures:
        arm_of.setdefault(x.user_id, x.arm)
    for e in events:
        arm_of.setdefault(e.user_id, str(e.arm))
    start = config.start.timestamp() if config and config.start else min(
        [x.at for x in exposures] + [e.at for e in events])
    return _Observed(name, config, exposures, events, arm_of, start)


def user_table(store: EventStore, experiment: ExperimentConfig | str, target: str | None = None) -> UserTable:
    """The experiment's per-user-per-day table (of one ``target``'s suggestions when given);
    ``RequestInvalid`` when the store holds nothing for it."""
    return _table(store, _observe(store, experiment, target), target)


def _table(store: EventStore, seen: _Observed, target: str | None) -> UserTable:
    from assay.stats.table import UserRow, UserTable

    cells: dict[tuple[str, dt.date], dict[str, float | list[float]]] = defaultdict(
        lambda: {"shown": 0.0, "accepted": 0.0, "requests": 0.0, "errors": 0.0, "cost": 0.0, "latency_ms": []})
    for (user, _), (first, shown, accepted) in _suggestions(seen.events).items():
        cell = cells[(user, _day(first))]
        cell["shown"] += float(shown)  # type: ignore[operator]
        cell["accepted"] += float(accepted)  # type: ignore[operator]
    for x in seen.exposures:
        cell = cells[(x.user_id, _day(x.at))]
        cell["requests"] += 1  # type: ignore[operator]
        cell["errors"] += float(x.error)  # type: ignore[operator]
        cell["cost"] += x.cost  # type: ignore[operator]
        cell["latency_ms"].append(x.latency_ms)  # type: ignore[union-attr]

    pre_days = seen.config.pre_period_days if seen.config else 14
    pre: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    if pre_days > 0:
        earlier = store.events(users=seen.arm_of, before=seen.start, since=seen.start - pre_days * DAY_S, target=target)
        for (user, _), (_, shown, accepted) in _suggestions(earlier).items():
            pre[user][0] += float(shown)
            pre[user][1] += float(accepted)

    rows = [UserRow(user_id=user, arm=seen.arm_of[user], date=day, experiment=seen.name,
                    pre_shown=pre[user][0], pre_accepted=pre[user][1], **cell)  # type: ignore[arg-type]
            for (user, day), cell in sorted(cells.items())]
    table = UserTable.from_rows(rows)
    present = set(table.arm.tolist())
    order = [a.name for a in seen.config.arms if a.name in present] if seen.config else []
    order += [a for a in table.arm_order if a not in order]
    return replace(table, arm_order=tuple(order))


@dataclass(frozen=True)
class RetentionPoint:
    """Characters of accepted suggestions still present ``checkpoint_s`` after acceptance, as clients report them."""

    checkpoint_s: int
    suggestions: int
    """Suggestions with a ``retained`` report at this checkpoint."""
    mean_retained_chars: float
    retained_share: float | None
    """Sum of retained over sum of accepted characters, over suggestions whose accepted characters were
    reported (``accepted_chars`` on their accepted / partially_accepted event); None when none were."""


@dataclass(frozen=True)
class ArmRetention:
    arm: str
    points: list[RetentionPoint]


def retention(store: EventStore, experiment: str, target: str | None = None) -> list[ArmRetention]:
    """Per arm and checkpoint (30 s, 2 min, 5 min, 10 min): how much accepted code survived (of one
    ``target``'s suggestions when given). The last report per suggestion and checkpoint counts."""
    return _retention(store.events(experiment=experiment, target=target))


def _retention(events: Iterable[StoredEvent]) -> list[ArmRetention]:
    accepted: dict[tuple[str, str], int] = {}
    retained: dict[tuple[str, int], dict[tuple[str, str], int]] = defaultdict(dict)
    arms: list[str] = []
    for e in events:
        if e.arm not in arms:
            arms.append(e.arm)
        key = (e.user_id, e.suggestion_id)
        if e.type in ACCEPTING and e.accepted_chars is not None:
            accepted[key] = e.accepted_chars
        elif e.type == "retained" and e.retained_chars is not None and e.checkpoint_s is not None:
            retained[(e.arm, e.checkpoint_s)][key] = e.retained_chars
    out = []
    for arm in arms:
        points = []
        for checkpoint in CHECKPOINTS_S:
            reports = retained.get((arm, checkpoint), {})
            if not reports:
                continue
            known = [k for k in reports if accepted.get(k)]
            share = (sum(min(reports[k], accepted[k]) for k in known) / sum(accepted[k] for k in known)) if known else None
            points.append(RetentionPoint(checkpoint, len(reports), sum(reports.values()) / len(reports), share))
        out.append(ArmRetention(arm, points))
    return out


@dataclass(frozen=True)
class StoreAnalysis:
    """What ``assay experiment analyze`` reads from the event store for one experiment."""

    table: UserTable
    retention: list[ArmRetention]
    unattributed: int
    """The experiment's unattributed events (see module doc)."""


def from_store(store: EventStore, experiment: ExperimentConfig | str, target: str | None = None) -> StoreAnalysis:
    """The experiment's table, retention and unattributed count (of one ``target``'s suggestions when given);
    ``RequestInvalid`` when the store holds nothing for it, or no shown suggestion while some of its users'
    events are unattributed (the client is not sending the suggestion ids the gateway served)."""
    seen = _observe(store, experiment, target)
    table = _table(store, seen, target)
    unattributed = store.unattributed(users=seen.arm_of, since=seen.start, target=target)
    if unattributed and not table.shown.any():
        raise RequestInvalid(f"experiment '{seen.name}' has no shown suggestions, and {unattributed} events of its "
                             f"users are unattributed: their suggestion_id is no suggestion the gateway served in "
                             f"an experiment (send the X-Assay-Trace-Id of each suggestion)")
    return StoreAnalysis(table, _retention(seen.events), unattributed)
