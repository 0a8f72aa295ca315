"""Online A/B experiments on live suggestions (code completions, code generations, ``/infill``, the
generative features: an experiment's ``targets``): per-user assignment, suggestion events, their
durable store, and aggregation into the per-user table ``assay experiment analyze`` reads.

- :mod:`~assay.experiments.assign`: deterministic arm per user (sha256 of salt and user id), which
  requests an experiment covers (their :class:`~assay.experiments.assign.Target`), and the arm's changes
  to a ``CompletionInput`` or ``ChatInput``;
- :mod:`~assay.experiments.events`: the ``POST /v1/events`` body and the typed records the store keeps;
- :mod:`~assay.experiments.store`: :class:`EventStore` (SQLAlchemy; SQLite by default, PostgreSQL by URL),
  filtered by target;
- :mod:`~assay.experiments.aggregate`: events (attributed by suggestion id) and exposures →
  :class:`~assay.stats.table.UserTable`, retention, the unattributed count;
- :mod:`~assay.experiments.runtime`: what the gateway holds per app (assignment, pending exposures,
  the middleware that records them once a response has finished).
"""

from assay.experiments.aggregate import (
    ArmRetention,
    RetentionPoint,
    StoreAnalysis,
    from_store,
    planned_weights,
    retention,
    user_table,
)
from assay.experiments.assign import Assignment, apply_arm, assign, assign_arm, bucket
from assay.experiments.events import EventBatch, EventIn, EventsAccepted, Exposure, TelemetryCount
from assay.experiments.store import EventStore, open_event_store

__all__ = ["ArmRetention", "Assignment", "EventBatch", "EventIn", "EventStore", "EventsAccepted", "Exposure",
           "RetentionPoint", "StoreAnalysis", "TelemetryCount", "apply_arm", "assign", "assign_arm", "bucket",
           "from_store", "open_event_store", "planned_weights", "retention", "user_table"]
