"""Evaluation sets mined from a user's own repositories (issue 7): commit history → (diff → commit
message / summary) cases, failing test runs → (log tail → failing test and cause) cases. Both write
JSONL rows of :class:`~assay.eval.mining.cases.FeatureCase`."""
