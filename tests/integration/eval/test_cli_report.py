"""``assay eval`` / ``assay report`` end to end: echo model through the pipeline, real sandbox, HTML on disk."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from assay.cli.eval import eval_app

runner = CliRunner()
CONFIG = """models:
  - name: e
    provider: echo
    spec: assay-nano
    options:
      reply: "    return []\\n"
"""


def test_eval_then_report_writes_a_self_contained_html(tmp_path) -> None:
    config = tmp_path / "assay.yaml"
    config.write_text(CONFIG)
    db = str(tmp_path / "runs.db")
    res = runner.invoke(eval_app, ["eval", "humaneval", "--model", "e", "--config", str(config), "--limit", "3",
                                   "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["problems"] == 3 and out["samples"] == 3 and out["model"] == "e"
    assert set(out["scores"]) == {"pass@1", "answered"}
    run_id = out["run_id"]

    html_path = tmp_path / "report.html"
    rep = runner.invoke(eval_app, ["report", run_id, "--db", db, "--html", str(html_path)])
    assert rep.exit_code == 0, rep.output
    assert "pass@1" in rep.stdout and str(html_path) in rep.stdout.replace("\n", "")
    html = html_path.read_text()
    assert html.startswith("<!doctype html>") and "<svg" in html and "http" not in html.split("<svg")[0]
    assert "Failed samples" in html and "HumanEval/0" in html and "raw_outputs" in html
    assert "Slowest samples" in html and "latency_ms p50" in html

    as_json = runner.invoke(eval_app, ["report", run_id, "--db", db, "--json", "--no-html"])
    assert json.loads(as_json.stdout)[0]["scores"]["pass@1"] == out["scores"]["pass@1"]


def test_report_of_an_unknown_run_lists_the_recent_ones(tmp_path) -> None:
    from assay.eval.store import RunStore

    db = str(tmp_path / "runs.db")
    store = RunStore(db)
    store.start_run("earlier", "humaneval", "e", {})
    store.close()
    res = runner.invoke(eval_app, ["report", "nope", "--db", db, "--no-html"])
    assert res.exit_code == 2
    assert "no run 'nope'" in res.output and "recent runs: earlier" in res.output


def test_report_with_a_missing_database_creates_none(tmp_path) -> None:
    db = tmp_path / "runs.db"
    res = runner.invoke(eval_app, ["report", "nope", "--db", str(db), "--no-html"])
    assert res.exit_code == 2 and f"run database {db} does not exist" in res.output
    assert not db.exists()


def test_list_and_option_errors() -> None:
    listed = runner.invoke(eval_app, ["eval", "--list"])
    assert listed.exit_code == 0 and "humaneval-infilling-multi-line" in listed.stdout and "repo-fim" in listed.stdout
    both = runner.invoke(eval_app, ["eval", "humaneval", "--reference", "--samples", "x.jsonl"])
    assert both.exit_code == 2 and "choose one of --samples, --via-gateway and --reference" in both.output
    bad_k = runner.invoke(eval_app, ["eval", "humaneval", "--reference", "--k", "1,x"])
    assert bad_k.exit_code == 2 and "--k must be comma-separated integers" in bad_k.output
    unknown = runner.invoke(eval_app, ["eval", "humaneval", "--model", "ghost", "--limit", "1"])
    assert unknown.exit_code == 2 and "model 'ghost' is not configured" in unknown.output


def test_eval_via_gateway_from_the_command_line(tmp_path, monkeypatch) -> None:
    from assay.config import Settings
    from tests.support.live_server import live_server

    settings = Settings(models=[{"name": "e", "provider": "echo", "spec": "assay-nano",
                                 "options": {"reply": "    return []\n"}}])
    db = str(tmp_path / "runs.db")
    with live_server(settings) as server:
        res = runner.invoke(eval_app, ["eval", "humaneval", "--via-gateway", server.url, "--model", "e",
                                       "--limit", "2", "--db", db, "--json"])
        missing = runner.invoke(eval_app, ["eval", "humaneval", "--via-gateway", server.url,
                                           "--gateway-key-env", "ASSAY_TEST_NO_SUCH_VAR", "--db", db])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["problems"] == 2 and out["model"] == "e" and out["run_id"].startswith("humaneval-e-")
    assert missing.exit_code == 2 and "ASSAY_TEST_NO_SUCH_VAR, which is not set" in missing.output
