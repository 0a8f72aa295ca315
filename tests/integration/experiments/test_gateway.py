"""End to end: a real gateway (uvicorn on a socket) with an experiment over two echo-model arms; users
complete code over the GitLab and OpenAI APIs, post events (with duplicates), and ``assay experiment
analyze`` decides from the store, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from assay.config import ExperimentConfig, Settings
from assay.experiments import assign_arm, open_event_store
from assay.server.routes.events import USER_HEADER
from tests.integration.experiments.analyzing import analyze_json, wait_for_exposures
from tests.support.live_server import live_server

EXPERIMENT = {
    "name": "model-ab", "salt": "salt-1",
    "arms": [
        {"name": "control", "model": "a", "prompt_cost_per_1k": 1.0},
        {"name": "treatment", "model": "b", "pipeline": {"context": False, "max_tokens": 16},
         "completion_cost_per_1k": 2.0},
    ],
}
USERS = [f"user-{i}" for i in range(12)]
BASE_ACCEPTED = {"control": 1, "treatment": 3}


def _counts(i: int, arm: str) -> tuple[int, int]:
    """(shown, accepted) posted for the i-th user: varied so that each arm's acceptance has variance."""
    return 5 + i % 3, BASE_ACCEPTED[arm] + i % 2
ADMIN = "admin-secret"


def _settings(db_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "models": [{"name": "a", "provider": "echo", "spec": "assay-nano", "options": {"reply": "x = 1"}},
                   {"name": "b", "provider": "echo", "spec": "assay-nano", "options": {"reply": "y = 2"}}],
        "database": {"url": db_url},
        "experiments": [EXPERIMENT],
        "server": {"admin_token": ADMIN},
        **extra,
    }


def _code_body(**extra: Any) -> dict[str, Any]:
    return {"current_file": {"file_name": "app.py", "content_above_cursor": "def f():\n    ",
                             "content_below_cursor": ""},
            "context": [{"type": "file", "name": "util.py", "content": "def f():\n    return helper()\n"}], **extra}


def test_experiment_end_to_end(db_url: str, tmp_path: Path) -> None:
    config = ExperimentConfig(**EXPERIMENT)
    expected = {u: assign_arm(config, u) for u in USERS}
    assert {a.arm for a in expected.values()} == {"control", "treatment"}
    served: dict[str, list[str]] = {}
    with live_server(_settings(db_url)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for i, user in enumerate(USERS):
            for k in range(_counts(i, expected[user].arm)[0]):
                r = client.post("/v2/code/completions", json=_code_body(), headers={USER_HEADER: user})
                assert r.status_code == 200, r.text
                served.setdefault(user, []).append(r.headers["X-Assay-Trace-Id"])
                if k >= 2:
                    continue
                body = r.json()
                assert body["experiments"] == [{"name": "model-ab", "variant": expected[user].variant}]
                assert body["model"]["name"] == ("a" if expected[user].arm == "control" else "b")
                assert json.loads(r.headers["X-Assay-Experiments"])[0]["arm"] == expected[user].arm
                trace = client.get(f"/v1/traces/{r.headers['X-Assay-Trace-Id']}",
                                   headers={"Authorization": f"Bearer {ADMIN}"}).json()
                assert bool(trace["context"]) == (expected[user].arm == "control")

        anonymous = client.post("/v2/code/completions", json=_code_body())
        assert anonymous.json()["experiments"] == [] and "X-Assay-Experiments" not in anonymous.headers
        assert anonymous.json()["model"]["name"] == "a"

        telemetry = [{"experiments": [{"name": "model-ab", "variant": 1}], "requests": 5, "accepts": 2, "errors": 1}]
        client.post("/v2/code/completions", json=_code_body(telemetry=telemetry), headers={USER_HEADER: "user-0"})

        # Events on the suggestion ids the gateway served: odd users' events name their user, experiment and
        # arm (by name or variant, agreeing with the gateway); even users' carry the suggestion id alone.
        now = dt.datetime.now(dt.UTC)
        events = []
        for i, user in enumerate(USERS):
            arm = expected[user].arm
            shown, accepted = _counts(i, arm)
            named = {"user_id": user, "experiment": "model-ab"} if i % 2 else {}
            for j in range(shown):
                events.append({"id": f"{user}-shown-{j}", "type": "shown", "suggestion_id": served[user][j],
                               "timestamp": now.isoformat(), **named, **({"arm": arm} if named else {})})
            for j in range(accepted):
                events.append({"id": f"{user}-acc-{j}", "type": "accepted", "suggestion_id": served[user][j],
                               "timestamp": (now + dt.timedelta(seconds=5)).isoformat(), "accepted_chars": 10,
                               **named, **({"arm": expected[user].variant} if named else {})})
            events.append({"id": f"{user}-kept", "type": "retained", "suggestion_id": served[user][0],
                           "retained_chars": 7, "checkpoint_s": 30,
                           "timestamp": (now + dt.timedelta(seconds=35)).isoformat(),
                           **named, **({"arm": arm} if named else {})})
        wait_for_exposures(db_url, {"model-ab": sum(map(len, served.values())) + 1})
        first = client.post("/v1/events", json={"events": events})
        assert first.status_code == 200, first.text
        assert first.json() == {"received": len(events), "recorded": len(events), "duplicates": 0}
        again = client.post("/v1/events", json={"events": events[:10]})
        assert again.json() == {"received": 10, "recorded": 0, "duplicates": 10}

        bad = client.post("/v1/events", json={"events": [{**events[0], "id": "x", "experiment": "model-ab",
                                                          "arm": "nope"}]})
        assert bad.status_code == 422 and "events.0.arm" in bad.text and "control" in bad.text
        # Never served: stored, counted in no arm, whatever it names (QA: it was counted in user-0's arm).
        other = "control" if expected["user-0"].arm == "treatment" else "treatment"
        never = [{"id": f"never-{k}", "type": t, "suggestion_id": "nope4", "user_id": "user-0",
                  "experiment": "model-ab", "arm": other, "timestamp": now.isoformat()}
                 for k, t in enumerate(["shown", "accepted"])]
        assert client.post("/v1/events", json={"events": never}).json()["recorded"] == 2

    store = open_event_store(db_url)
    try:
        exposures = store.exposures("model-ab")
        assert {x.user_id for x in exposures} == set(USERS)
        assert all(x.arm == expected[x.user_id].arm and x.latency_ms > 0 and not x.error for x in exposures)
        counts = store.telemetry("model-ab")
        assert [(c.user_id, c.arm, c.requests, c.accepts, c.errors) for c in counts] == [("user-0", "treatment", 5, 2, 1)]
    finally:
        store.close()

    yaml_path = tmp_path / "assay.yaml"
    yaml_path.write_text(yaml.safe_dump(_settings(db_url)))
    data = analyze_json("model-ab", "--db", db_url, "--config", str(yaml_path), "--bootstrap", "200")
    assert data["verdict"] in ("ship", "don't ship", "keep running") and data["control"] == "control"
    assert data["unattributed_events"] == 2
    for arm in data["arms"]:
        posted = [_counts(i, arm["arm"]) for i, u in enumerate(USERS) if expected[u].arm == arm["arm"]]
        assert arm["users"] == len(posted)
        assert arm["shown"] == sum(s for s, _ in posted)
        assert arm["accepted"] == sum(a for _, a in posted)
        assert arm["error_rate"] == 0
        assert arm["cost_per_user"] > 0
    assert data["settings"]["weights"] == {"control": 0.5, "treatment": 0.5}
    assert {r["arm"]: [(p["checkpoint_s"], p["suggestions"], p["retained_share"]) for p in r["points"]]
            for r in data["retention"]} == {
        arm: [(30, sum(expected[u].arm == arm for u in USERS), 0.7)] for arm in ("control", "treatment")}


def test_openai_completions_carry_the_arm_and_the_sdk_still_parses(tmp_path: Path) -> None:
    from openai import OpenAI

    db_url = f"sqlite:///{tmp_path / 'e.db'}"
    config = ExperimentConfig(**EXPERIMENT)
    with live_server(_settings(db_url)) as server:
        client = OpenAI(base_url=f"{server.url}/v1", api_key="unused")
        raw = client.completions.with_raw_response.create(model="a", prompt="def f():\n    ", suffix="", user="user-3")
        completion = raw.parse()
        arm = assign_arm(config, "user-3")
        assert json.loads(raw.headers["X-Assay-Experiments"]) == [{"name": "model-ab", "variant": arm.variant,
                                                                   "arm": arm.arm}]
        assert completion.model == ("a" if arm.arm == "control" else "b")
        assert completion.model_extra["assay_experiments"][0]["arm"] == arm.arm
        plain = client.completions.with_raw_response.create(model="a", prompt="def f():\n    ", suffix="")
        assert "X-Assay-Experiments" not in plain.headers
        assert "assay_experiments" not in json.loads(plain.http_response.text)
        wait_for_exposures(db_url, {"model-ab": 1})


def test_stopped_experiments_assign_nobody(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e.db'}"
    stopped = {**EXPERIMENT, "status": "stopped"}
    with live_server({**_settings(db_url), "experiments": [stopped]}) as server:
        r = httpx.post(f"{server.url}/v2/code/completions", json=_code_body(), headers={USER_HEADER: "user-1"})
        assert r.json()["experiments"] == [] and r.json()["model"]["name"] == "a"
    store = open_event_store(db_url)
    assert store.exposures("model-ab") == []
    store.close()


def test_events_need_the_events_scope_and_default_to_the_keys_user(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e.db'}"
    store = open_event_store(db_url)
    from assay.store import open_store

    keys = open_store(db_url).keys
    completer = keys.create("ann", ["complete_code"]).secret
    reporter = keys.create("bob", ["events"]).secret
    event = {"id": "e1", "type": "shown", "suggestion_id": "s1", "timestamp": "2026-03-02T12:00:00"}
    settings = Settings(**_settings(db_url, auth={"mode": "keys"}))
    with live_server(settings) as server:
        denied = httpx.post(f"{server.url}/v1/events", json={"events": [event]},
                            headers={"Authorization": f"Bearer {completer}"})
        assert denied.status_code == 403 and "events" in denied.text
        ok = httpx.post(f"{server.url}/v1/events", json={"events": [event]},
                        headers={"Authorization": f"Bearer {reporter}"})
        assert ok.status_code == 200, ok.text
    assert [(e.user_id, e.experiment) for e in store.events()] == [("bob", None)]
    store.close()


@pytest.mark.parametrize(("change", "message"), [
    ({"type": "partially_accepted"}, "accepted_chars"),
    ({"type": "retained", "retained_chars": 3, "checkpoint_s": 45}, "checkpoint_s"),
    ({"experiment": "nope", "arm": 0}, "events.0.experiment"),
    ({"timestamp": "yesterday"}, "timestamp"),
])
def test_event_validation_answers_422_naming_the_field(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    db_url = f"sqlite:///{tmp_path / 'e.db'}"
    event = {"id": "e1", "type": "shown", "suggestion_id": "s1", "user_id": "u", "timestamp": "2026-03-02T12:00:00Z",
             **change}
    with live_server(_settings(db_url)) as server:
        r = httpx.post(f"{server.url}/v1/events", json={"events": [event]})
    assert r.status_code == 422, r.text
    assert message in r.text


def test_failed_and_streamed_requests_are_recorded_with_their_arm(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e.db'}"
    broken = {"name": "broken", "provider": "echo", "spec": "assay-nano", "options": {"fail_status": 503}}
    experiment = {"name": "model-ab", "salt": "salt-1",
                  "arms": [{"name": "control", "model": "a"}, {"name": "treatment", "model": "broken"}]}
    settings = _settings(db_url, experiments=[experiment])
    settings["models"].append(broken)
    config = ExperimentConfig(**experiment)
    treated = next(u for u in USERS if assign_arm(config, u).arm == "treatment")
    control = next(u for u in USERS if assign_arm(config, u).arm == "control")
    with live_server(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        failed = client.post("/v2/code/completions", json=_code_body(), headers={USER_HEADER: treated})
        assert failed.status_code >= 500
        assert json.loads(failed.headers["X-Assay-Experiments"])[0]["arm"] == "treatment"
        with client.stream("POST", "/v2/code/completions", json=_code_body(stream=True),
                           headers={USER_HEADER: control}) as streamed:
            assert streamed.status_code == 200
            assert json.loads(streamed.headers["X-Assay-Experiments"])[0]["arm"] == "control"
            assert "".join(streamed.iter_text())
        wait_for_exposures(db_url, {"model-ab": 2})
    store = open_event_store(db_url)
    try:
        by_user = {x.user_id: x for x in store.exposures("model-ab")}
    finally:
        store.close()
    assert by_user[treated].error and by_user[treated].arm == "treatment"
    assert not by_user[control].error and by_user[control].completion_tokens > 0
