"""The labeled corpus (``corpus/``): recall on secrets, false positives on look-alikes.

Bound on false positives: at most 3% of harmless snippets may have anything redacted. A false
positive costs a placeholder in a prompt (a slightly less informative context for the model, and the
value is restored if the model echoes it); a miss sends a credential to a third party. The rules are
tuned for recall, and 3% keeps the prompt damage rare while leaving room for the name-based rules,
which judge values they cannot know (``cache_key = "<random hex>"``).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from assay.pipeline.redact import SecretVault, find_secrets

CORPUS = Path(__file__).parent / "corpus"
MIN_RECALL = 0.99
MAX_FALSE_POSITIVE_RATE = 0.03


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (CORPUS / name).read_text(encoding="utf-8").splitlines()]


def test_the_corpus_is_large_enough_and_varied() -> None:
    secrets, harmless = _rows("secrets.jsonl"), _rows("harmless.jsonl")
    assert len(secrets) >= 200 and len(harmless) >= 200
    assert len({r["kind"] for r in secrets}) >= 15
    assert len({r["category"] for r in harmless}) >= 10
    assert all(r["secrets"] and all(s in r["text"] for s in r["secrets"]) for r in secrets)


def test_recall_on_secret_snippets() -> None:
    rows = _rows("secrets.jsonl")
    missed = []
    for row in rows:
        redacted = SecretVault().redact(row["text"])
        if any(s in redacted for s in row["secrets"]):
            missed.append(row["id"])
    recall = 1 - len(missed) / len(rows)
    print(f"\nredaction recall: {recall:.4f} on {len(rows)} secret snippets; missed: {missed}")
    assert recall >= MIN_RECALL, f"missed {missed}"


def test_false_positive_rate_on_look_alikes() -> None:
    rows = _rows("harmless.jsonl")
    flagged = [(row["id"], [f.kind for f in find_secrets(row["text"])]) for row in rows]
    flagged = [(i, kinds) for i, kinds in flagged if kinds]
    rate = len(flagged) / len(rows)
    print(f"\nredaction false-positive rate: {rate:.4f} on {len(rows)} harmless snippets; flagged: {flagged}")
    assert rate <= MAX_FALSE_POSITIVE_RATE, flagged


def test_the_committed_corpus_is_what_the_script_generates(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("redact_corpus_generate", CORPUS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for name in ("secrets.jsonl", "harmless.jsonl"):
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), f"{name} is stale: rerun generate.py"


@pytest.mark.parametrize("kind", ["aws_access_key_id", "github_token", "password", "private_key", "jwt"])
def test_redacted_snippets_keep_their_surroundings(kind: str) -> None:
    row = next(r for r in _rows("secrets.jsonl") if r["kind"] == kind)
    redacted = SecretVault().redact(row["text"])
    assert "<ASSAY_SECRET_1>" in redacted
    assert redacted.splitlines()[0][:3] == row["text"].splitlines()[0][:3]
