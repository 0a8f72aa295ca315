"""``assay experiment analyze`` on an experiment still waiting for data: a real gateway (uvicorn on a socket)
serves code completions and records exposures, no client has posted events yet (or every user landed in one
arm), and the analysis reports what it can (the sample-ratio check on the users exposed, "no events yet")
instead of stopping. The gateway's database is given to ``--db`` as a plain file path, as eval, report and
compare take it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml

from assay.config import ExperimentConfig
from assay.experiments import assign_arm
from assay.server.routes.events import USER_HEADER
from tests.integration.experiments.analyzing import analyze, analyze_json, wait_for_exposures
from tests.support.live_server import live_server

EXPERIMENT = {"name": "ab", "salt": "early-1", "arms": [{"name": "control"}, {"name": "treatment"}]}
BODY = {"current_file": {"file_name": "app.py", "content_above_cursor": "def f():\n    ", "content_below_cursor": ""}}
CANDIDATES = [f"user-{i}" for i in range(60)]


def _serve(tmp_path: Path, users: list[str]) -> tuple[Path, Path]:
    """Serve one completion to each user through a real gateway; the gateway's database file and assay.yaml."""
    db = tmp_path / "gw.db"
    settings: dict[str, Any] = {
        "models": [{"name": "a", "provider": "echo", "spec": "assay-nano", "options": {"reply": "x = 1"}}],
        "database": {"url": f"sqlite:///{db}"}, "experiments": [EXPERIMENT]}
    with live_server(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for user in users:
            assert client.post("/v2/code/completions", json=BODY, headers={USER_HEADER: user}).status_code == 200
        wait_for_exposures(settings["database"]["url"], {"ab": len(users)})
    config = tmp_path / "assay.yaml"
    config.write_text(yaml.safe_dump(settings))
    return db, config


def _of_arm(arm: str, n: int) -> list[str]:
    config = ExperimentConfig(**EXPERIMENT)
    return [u for u in CANDIDATES if assign_arm(config, u).arm == arm][:n]


def test_exposures_without_events_report_the_sample_ratio_and_no_events_yet(tmp_path: Path) -> None:
    users = _of_arm("control", 5) + _of_arm("treatment", 4)
    db, config = _serve(tmp_path, users)
    data = analyze_json("ab", "--config", str(config), "--db", str(db), "--bootstrap", "50")
    assert data["verdict"] == "keep running" and data["comparisons"] == []
    assert data["srm"]["observed"] == {"control": 5, "treatment": 4} and data["srm"]["mismatch"] is False
    assert data["srm"]["p_value"] > 0.5
    assert [(a["arm"], a["users"], a["shown"]) for a in data["arms"]] == [("control", 5, 0), ("treatment", 4, 0)]
    assert any("no events yet" in r for r in data["reasons"])
    text = analyze("ab", "--config", str(config), "--db", str(db), "--bootstrap", "50")
    assert text.exit_code == 0, text.output
    assert "KEEP RUNNING" in text.output and "no events yet" in text.output


def test_one_arm_only_is_a_sample_ratio_mismatch_once_users_add_up(tmp_path: Path) -> None:
    db, config = _serve(tmp_path, _of_arm("control", 12))
    data = analyze_json("ab", "--config", str(config), "--db", str(db), "--bootstrap", "50")
    assert data["srm"]["observed"] == {"control": 12, "treatment": 0} and data["srm"]["mismatch"] is True
    assert data["verdict"] == "don't ship" and "sample ratio mismatch" in data["reasons"][0]
    unplanned = analyze_json("ab", "--db", str(db), "--bootstrap", "50")
    assert unplanned["verdict"] == "keep running" and unplanned["srm"]["p_value"] is None
    assert any("sample ratio not checked" in r for r in unplanned["reasons"])
    assert any("no events yet" in r for r in unplanned["reasons"])


def test_db_that_is_neither_a_url_nor_a_path_is_one_line(tmp_path: Path) -> None:
    result = analyze("ab", "--db", "nope://x", "--json")
    assert result.exit_code == 2 and "nope://x" in result.output and "Traceback" not in result.output


def test_a_mistyped_db_path_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "gw-typo.db"
    result = analyze("ab", "--db", str(missing), "--json")
    assert result.exit_code == 2 and f"{missing} does not exist" in result.output
    assert not missing.exists()


def test_the_decision_report_of_an_experiment_without_events_has_no_empty_tables(tmp_path: Path) -> None:
    db, config = _serve(tmp_path, _of_arm("control", 3))
    report = tmp_path / "decision"
    result = analyze("ab", "--db", str(db), "--bootstrap", "50", "--report", str(report))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "decision.md").read_text()
    assert "Sample ratio check: not possible yet" in text and "nan" not in text
    assert "No arm can be compared with the control yet" in text and "Guardrails" not in text
