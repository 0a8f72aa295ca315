"""Events that carry only the suggestion id the gateway served (``X-Assay-Trace-Id``) count in every
experiment that suggestion was served in, with the arm that served it: a real gateway (uvicorn on a socket)
serves code completions to 8 users in two experiments at once, the client posts id-only events (some with an
explicit experiment and arm, some for its own ids naming an experiment and arm, some for ids the gateway never
served) and ``assay experiment analyze --json`` reports exact counts and the unattributed events (every
never-served id, whatever it names), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from assay.config import ExperimentConfig
from assay.errors import RequestInvalid
from assay.experiments import Exposure, assign_arm, from_store, open_event_store
from assay.experiments.events import StoredEvent
from assay.experiments.store import UNKNOWN_USER, Served
from assay.server.routes.events import USER_HEADER
from tests.integration.experiments.analyzing import analyze, analyze_json, wait_for_exposures
from tests.support.live_server import live_server

MODEL_AB = {"name": "model-ab", "salt": "salt-1",
            "arms": [{"name": "control", "model": "a"}, {"name": "treatment", "model": "b"}]}
CTX_AB = {"name": "ctx-ab", "salt": "ctx-1",
          "arms": [{"name": "plain"}, {"name": "short", "pipeline": {"max_tokens": 16}}]}
GEN_AB = {"name": "gen-ab", "salt": "gen-1", "targets": ["code_generations"],
          "arms": [{"name": "control"}, {"name": "treatment"}]}
USERS = [f"user-{i}" for i in range(8)]
SETTINGS: dict[str, Any] = {
    "models": [{"name": "a", "provider": "echo", "spec": "assay-nano", "options": {"reply": "x = 1"}},
               {"name": "b", "provider": "echo", "spec": "assay-nano", "options": {"reply": "y = 2"}}],
    "experiments": [MODEL_AB, CTX_AB, GEN_AB],
}
BODY = {"current_file": {"file_name": "app.py", "content_above_cursor": "def f():\n    ", "content_below_cursor": ""}}


def _requests(i: int) -> int:
    return 3 + i % 2


def _accepted(i: int, model_arm: str) -> int:
    """Accepted suggestions of the i-th user: varied, so that each arm's acceptance has variance."""
    return min(_requests(i), i % 3 + (model_arm == "treatment"))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def test_events_with_only_a_suggestion_id_count_in_each_experiment_it_was_served_in(db_url: str,
                                                                                   tmp_path: Path) -> None:
    model_ab, ctx_ab = ExperimentConfig(**MODEL_AB), ExperimentConfig(**CTX_AB)
    model_arm = {u: assign_arm(model_ab, u) for u in USERS}
    ctx_arm = {u: assign_arm(ctx_ab, u).arm for u in USERS}
    settings = {**SETTINGS, "database": {"url": db_url}}
    served: dict[str, list[str]] = {}
    with live_server(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for i, user in enumerate(USERS):
            for _ in range(_requests(i)):
                r = client.post("/v2/code/completions", json=BODY, headers={USER_HEADER: user})
                assert r.status_code == 200, r.text
                served.setdefault(user, []).append(r.headers["X-Assay-Trace-Id"])
        n = sum(map(len, served.values()))
        wait_for_exposures(db_url, {"model-ab": n, "ctx-ab": n})

        for i, user in enumerate(USERS):
            events: list[dict[str, Any]] = [{"id": f"{s}-shown", "type": "shown", "suggestion_id": s, "timestamp": _now()}
                                            for s in served[user]]
            for j, s in enumerate(served[user][:_accepted(i, model_arm[user].arm)]):
                explicit = {"experiment": "model-ab", "arm": model_arm[user].variant} if i % 2 == 0 else {}
                events.append({"id": f"{s}-acc", "type": "accepted", "suggestion_id": s, "accepted_chars": 10,
                               "timestamp": _now(), **explicit})
                if j == 0:
                    events.append({"id": f"{s}-kept", "type": "retained", "suggestion_id": s, "retained_chars": 7,
                                   "checkpoint_s": 30, "timestamp": _now()})
            r = client.post("/v1/events", json={"events": events}, headers={USER_HEADER: user})
            assert r.status_code == 200 and r.json()["recorded"] == len(events), r.text

        # The client's own ids, naming model-ab's treatment: never served, so unattributed, not treatment's.
        own = [{"id": f"own-{k}", "type": t, "suggestion_id": f"own-{k // 2}", "experiment": "model-ab",
                "arm": "treatment", "timestamp": _now()} for k, t in enumerate(["shown", "accepted", "shown"])]
        assert client.post("/v1/events", json={"events": own}, headers={USER_HEADER: "user-1"}).status_code == 200
        typos = [{"id": f"typo-{k}", "type": "shown", "suggestion_id": f"typo-{k}", "timestamp": _now()}
                 for k in range(3)]
        for user, batch in (("user-2", typos[:2]), ("user-3", typos[2:]), ("outsider", [{**typos[0], "id": "o"}])):
            assert client.post("/v1/events", json={"events": batch}, headers={USER_HEADER: user}).status_code == 200
        # No user at all and an id never served: accepted, and unattributed in every experiment since its start.
        nobody = client.post("/v1/events", json={"events": [{**typos[0], "id": "nobody", "suggestion_id": "who"}]})
        assert nobody.status_code == 200 and nobody.json()["recorded"] == 1

        s0 = served["user-0"][0]
        ok = {"id": "c0", "type": "rejected", "suggestion_id": s0, "timestamp": _now()}
        wrong_arm = client.post("/v1/events", headers={USER_HEADER: "user-0"}, json={"events": [
            ok, {**ok, "id": "c1", "experiment": "model-ab", "arm": "treatment"}]})
        assert wrong_arm.status_code == 422 and "events.1.arm" in wrong_arm.text and "control" in wrong_arm.text
        wrong_experiment = client.post("/v1/events", headers={USER_HEADER: "user-0"}, json={"events": [
            {**ok, "experiment": "gen-ab", "arm": 0}]})
        assert wrong_experiment.status_code == 422 and "events.0.experiment" in wrong_experiment.text

    yaml_path = tmp_path / "assay.yaml"
    yaml_path.write_text(yaml.safe_dump(settings))
    for name, arm_of in (("model-ab", lambda u: model_arm[u].arm), ("ctx-ab", ctx_arm.get)):
        data = analyze_json(name, "--db", db_url, "--config", str(yaml_path), "--bootstrap", "50")
        assert data["unattributed_events"] == 7  # user-1's 3 own-id events (naming model-ab), 3 typos, 1 userless
        by_arm = {a["arm"]: a for a in data["arms"]}
        assert set(by_arm) == {a["name"] for a in (MODEL_AB if name == "model-ab" else CTX_AB)["arms"]}
        for arm, got in by_arm.items():
            members = [i for i, u in enumerate(USERS) if arm_of(u) == arm]
            assert got["users"] == len(members)
            assert got["shown"] == sum(_requests(i) for i in members)
            assert got["accepted"] == sum(_accepted(i, model_arm[USERS[i]].arm) for i in members)
        kept = {r["arm"]: r["points"] for r in data["retention"]}
        for arm in by_arm:
            keepers = [u for i, u in enumerate(USERS) if arm_of(u) == arm and _accepted(i, model_arm[u].arm)]
            assert kept[arm] == [{"checkpoint_s": 30, "suggestions": len(keepers), "mean_retained_chars": 7.0,
                                  "retained_share": 0.7}]
    store = open_event_store(db_url)
    try:
        assert not [e for e in store.events() if e.id in ("c0", "c1")]
    finally:
        store.close()


def _exposure(trace_id: str, user: str, arm: str, at: float) -> Exposure:
    return Exposure(experiment="ab", arm=arm, user_id=user, at=at, trace_id=trace_id, latency_ms=5.0,
                    prompt_tokens=1, completion_tokens=1, error=False, cost=0.0)


def _event(id: str, suggestion: str, user: str, at: float, experiment: str | None = None,
           arm: str | None = None) -> StoredEvent:
    return StoredEvent(id=id, type="shown", suggestion_id=suggestion, user_id=user, experiment=experiment, arm=arm,
                       at=at)


def test_the_exposure_decides_even_when_it_is_recorded_after_its_events(db_url: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """An event can reach the store before its suggestion's exposure (written after the response's last byte):
    attribution happens when events are read, and the exposure then decides the arm and the user (an event
    posted with no user gets its served user). Until then, it counts nowhere, whatever it names."""
    t0 = time.time()
    store = open_event_store(db_url)
    try:
        store.add_events([_event("e1", "t1", "u1", t0 + 1), _event("e2", "t2", "u2", t0 + 1, "ab", "control"),
                          _event("e3", "t3", "u3", t0 + 1), _event("e4", "t4", UNKNOWN_USER, t0 + 1)])
        assert store.events(experiment="ab") == []
        assert store.unattributed(users=["u1", "u2", "u3"], since=t0) == 4
        store.add_exposures([_exposure("t1", "u1", "treatment", t0), _exposure("t2", "u2", "treatment", t0),
                             _exposure("t4", "u4", "control", t0)])
        assert [(e.id, e.experiment, e.arm, e.user_id) for e in store.events(experiment="ab")] == [
            ("e1", "ab", "treatment", "u1"), ("e2", "ab", "treatment", "u2"), ("e4", "ab", "control", "u4")]
        assert [e.id for e in store.events(users=["u4"])] == ["e4"]
        assert store.unattributed(users=["u1", "u2", "u3"], since=t0) == 1
        assert store.unattributed(users=["u1", "u2", "u3"], since=t0 + 2) == 0
        assert store.served(["t1", "t3"]) == {"t1": Served("u1", {"ab": "treatment"})}
        monkeypatch.setattr("assay.experiments.store.IDS_PER_QUERY", 1)
        assert store.served(["t3", "t2", "t1", "t2"]) == {"t1": Served("u1", {"ab": "treatment"}),
                                                          "t2": Served("u2", {"ab": "treatment"})}
        assert store.unattributed(users=["u3", "u1", "u2"], since=t0) == 1
    finally:
        store.close()


def test_analysis_says_so_when_every_event_is_unattributed(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e.db'}"
    t0 = time.time()
    store = open_event_store(db_url)
    try:
        store.add_exposures([_exposure(f"t{i}", f"u{i}", ("control", "treatment")[i % 2], t0) for i in range(4)])
        store.add_events([_event(f"e{i}", f"client-{i}", f"u{i}", t0 + 1) for i in range(4)])
        with pytest.raises(RequestInvalid, match="4 events of its users are unattributed"):
            from_store(store, "ab")
    finally:
        store.close()
    result = analyze("ab", "--db", db_url, "--json")
    assert result.exit_code == 2 and "unattributed" in result.output
