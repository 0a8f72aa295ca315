"""Loading the per-user experiment table from CSV, JSON and JSONL, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assay.errors import RequestInvalid
from assay.stats.table import load_user_table


def test_json_with_users_key_and_latency_lists(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(
        json.dumps(
            {
                "users": [
                    {"user_id": 1, "arm": "a", "shown": 4, "accepted": 1, "latency_ms": [100, 200]},
                    {"user_id": 2, "arm": "b", "shown": 3, "accepted": 3, "latency_ms": 150, "cost": 0.5},
                ]
            }
        )
    )
    table = load_user_table(path)
    assert table.user_id.tolist() == ["1", "2"]
    assert table.arm_order == ("a", "b")
    assert [x.tolist() for x in table.latency_ms] == [[100.0, 200.0], [150.0]]
    assert table.cost.tolist() == [0.0, 0.5]
    assert table.date is None


def test_jsonl_filters_by_experiment_and_parses_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    rows = [
        {"experiment": "e1", "user_id": "u1", "arm": "a", "shown": 2, "date": "2026-11-02T23:10:00Z"},
        {"experiment": "e2", "user_id": "u2", "arm": "zzz", "shown": "not a number"},
        {"experiment": "e1", "user_id": "u3", "arm": "b", "shown": 1, "date": "2026-11-01"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    table = load_user_table(path, experiment="e1")
    assert table.user_id.tolist() == ["u1", "u3"]
    assert table.date is not None
    assert [str(d) for d in table.days()] == ["2026-11-01", "2026-11-02"]
    assert len(table.until(np.datetime64("2026-11-01"))) == 1


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("user_id,arm,shown\nu1,a,-1\n", ".csv", "row 1: shown: Input should be greater than or equal to 0"),
        ("user_id,shown\nu1,3\n", ".csv", "row 1: arm: Field required"),
        ("{not json", ".json", "not valid CSV / JSON"),
        ('{"rows": 3}', ".json", "expected a list of rows"),
        ("user_id,arm,date\nu1,a,2026-11-01\nu2,b,\n", ".csv", "date column must be filled on every row"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path: Path, content: str, suffix: str, message: str) -> None:
    path = tmp_path / f"events{suffix}"
    path.write_text(content)
    with pytest.raises(RequestInvalid) as info:
        load_user_table(path)
    assert message in info.value.message
    assert "\n" not in info.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RequestInvalid, match="events file not found"):
        load_user_table(tmp_path / "nope.csv")
