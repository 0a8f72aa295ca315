"""End to end, over a real socket: experiments on code generations (+ ``/infill``) and on a generative
feature, each with two arms served by two different echo models. Every suggestion endpoint returns the
user's (stable) arm and an opaque suggestion id (the same format for every target); the exposures record
the target, events posted with those ids, and ``assay experiment analyze --target`` decides each
experiment from the store, reporting both arms."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from assay.config import ExperimentConfig
from assay.experiments import Exposure, assign_arm, open_event_store
from assay.server.routes.events import USER_HEADER
from tests.integration.experiments.analyzing import analyze, analyze_json, wait_for_exposures
from tests.support.live_server import live_server

REPLY = {"a": "x = 1", "b": "y = 2"}
GEN = {"name": "gen-ab", "salt": "g-1", "targets": ["code_generations", "infill"],
       "arms": [{"name": "control", "model": "a"}, {"name": "treatment", "model": "b", "completion_cost_per_1k": 1.0}]}
CHAT = {"name": "chat-ab", "salt": "c-1", "targets": ["features"], "features": ["explain_code"],
        "arms": [{"name": "control", "model": "a", "prompt_version": "1.0.0"},
                 {"name": "treatment", "model": "b", "prompt_version": "^1.0.0"}]}
USERS = [f"dev-{i}" for i in range(8)]
OPAQUE = re.compile("[0-9a-f]{32}")
ACCEPTED = {"control": 0, "treatment": 1}
"""Suggestions the i-th user accepts (of those shown) in each arm, plus i % 2 so that acceptance varies."""


def _accepted(i: int, arm: str, shown: int) -> int:
    return min(shown, ACCEPTED[arm] + i % 2)


def _settings(db_url: str) -> dict[str, Any]:
    return {"models": [{"name": n, "provider": "echo", "spec": "assay-nano", "options": {"reply": r}}
                       for n, r in REPLY.items()],
            "database": {"url": db_url}, "experiments": [GEN, CHAT]}


def _model(arm: str) -> str:
    return "a" if arm == "control" else "b"


def _file(**extra: Any) -> dict[str, Any]:
    return {"file_name": "app.py", "content_above_cursor": "def f():\n    ", "content_below_cursor": "", **extra}


def _generations(client: httpx.Client, user: str, arm: Any) -> list[str]:
    """Two v2 generations and one v4 generation component; returns their suggestion ids."""
    ids = []
    for _ in range(2):
        r = client.post("/v2/code/generations", json={"current_file": _file(), "prompt_version": 2, "prompt": "add f"},
                        headers={USER_HEADER: user})
        assert r.status_code == 200, r.text
        assert r.json()["experiments"] == [{"name": "gen-ab", "variant": arm.variant}]
        assert r.json()["model"]["name"] == _model(arm.arm)
        assert r.json()["choices"][0]["text"] == REPLY[_model(arm.arm)]
        ids.append(r.headers["X-Assay-Trace-Id"])
    v4 = {"prompt_components": [{"type": "code_editor_generation", "payload": _file(prompt="add f")}]}
    r = client.post("/v4/code/suggestions", json=v4, headers={USER_HEADER: user})
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["experiments"] == [{"name": "gen-ab", "variant": arm.variant}]
    assert r.json()["metadata"]["model"]["name"] == _model(arm.arm)
    ids.append(r.headers["X-Assay-Trace-Id"])
    assert all(OPAQUE.fullmatch(i) for i in ids) and len(set(ids)) == 3
    return ids


def _infill(client: httpx.Client, user: str, arm: Any) -> list[str]:
    ids = []
    for _ in range(2):
        r = client.post("/infill", json={"input_prefix": "def f():\n    ", "input_suffix": "\n"},
                        headers={USER_HEADER: user})
        assert r.status_code == 200, r.text
        assert r.json()["model"] == _model(arm.arm)
        assert r.json()["assay_experiments"] == [{"name": "gen-ab", "variant": arm.variant, "arm": arm.arm}]
        ids.append(r.headers["X-Assay-Trace-Id"])
    assert all(OPAQUE.fullmatch(i) for i in ids)
    return ids


def _features(client: httpx.Client, user: str, arm: Any) -> list[str]:
    """``/v1/chat/explain_code``, ``/v1/prompts/explain_code`` and OpenAI ``feature:explain_code``."""
    tag = {"name": "chat-ab", "variant": arm.variant, "arm": arm.arm}
    chat = {"prompt_components": [{"type": "prompt", "metadata": {"source": "GitLab EE", "version": "17.8.0"},
                                   "payload": {"content": "x = 1"}}]}
    r = client.post("/v1/chat/explain_code", json=chat, headers={USER_HEADER: user})
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["model"] == _model(arm.arm) and r.json()["metadata"]["experiments"] == [tag]
    assert r.json()["response"].endswith(REPLY[_model(arm.arm)])
    ids = [r.headers["X-Assay-Trace-Id"]]
    r = client.post("/v1/prompts/explain_code", json={"inputs": {"code": "x = 1"}}, headers={USER_HEADER: user})
    assert r.status_code == 200, r.text
    assert r.json().endswith(REPLY[_model(arm.arm)]) and r.headers["X-Assay-Prompt-Version"].endswith("@1.0.0")
    assert json.loads(r.headers["X-Assay-Experiments"]) == [tag]
    ids.append(r.headers["X-Assay-Trace-Id"])
    r = client.post("/v1/chat/completions", json={"model": "feature:explain_code", "user": user,
                                                  "messages": [{"role": "user", "content": "x = 1"}]})
    assert r.status_code == 200, r.text
    assert r.json()["assay_experiments"] == [tag] and r.json()["model"] == _model(arm.arm)
    ids.append(r.headers["X-Assay-Trace-Id"])
    assert r.json()["id"] == f"chatcmpl-{ids[-1]}"
    assert all(OPAQUE.fullmatch(i) for i in ids) and len(set(ids)) == 3
    return ids


def _events(i: int, experiment: str, arm: str, suggestions: list[str]) -> list[dict[str, Any]]:
    out, user = [], USERS[i]
    for j, s in enumerate(suggestions):
        out.append({"id": f"{s}-shown", "type": "shown", "suggestion_id": s, "experiment": experiment, "arm": arm,
                    "user_id": user, "timestamp": "2026-03-02T12:00:00Z"})
        if j < _accepted(i, arm, len(suggestions)):
            out.append({"id": f"{s}-acc", "type": "accepted", "suggestion_id": s, "experiment": experiment,
                        "arm": arm, "user_id": user, "timestamp": "2026-03-02T12:00:05Z"})
    return out


def _analyze(tmp_path: Path, db_url: str, name: str, *target: str) -> Any:
    config = tmp_path / "assay.yaml"
    config.write_text(yaml.safe_dump(_settings(db_url)))
    return analyze_json(name, "--db", db_url, "--config", str(config), "--bootstrap", "100", *target)


def test_generation_and_feature_experiments_end_to_end(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'events.db'}"
    gen_arm = {u: assign_arm(ExperimentConfig(**GEN), u) for u in USERS}
    chat_arm = {u: assign_arm(ExperimentConfig(**CHAT), u) for u in USERS}
    assert {a.arm for a in gen_arm.values()} == {a.arm for a in chat_arm.values()} == {"control", "treatment"}
    events: list[dict[str, Any]] = []
    with live_server(_settings(db_url)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for i, user in enumerate(USERS):
            events += _events(i, "gen-ab", gen_arm[user].arm, _generations(client, user, gen_arm[user]))
            events += _events(i, "gen-ab", gen_arm[user].arm, _infill(client, user, gen_arm[user]))
            events += _events(i, "chat-ab", chat_arm[user].arm, _features(client, user, chat_arm[user]))

        completion = client.post("/v2/code/completions", json={"current_file": _file()}, headers={USER_HEADER: "dev-0"})
        assert completion.json()["experiments"] == [] and "X-Assay-Experiments" not in completion.headers
        other = client.post("/v1/prompts/fix_code", json={"inputs": {"code": "x = 1"}}, headers={USER_HEADER: "dev-0"})
        assert other.status_code == 200 and "X-Assay-Experiments" not in other.headers
        anonymous = client.post("/v2/code/generations", json={"current_file": _file(), "prompt_version": 2,
                                                               "prompt": "add f"})
        assert anonymous.json()["experiments"] == [] and anonymous.json()["model"]["name"] == "a"

        posted = client.post("/v1/events", json={"events": events})
        assert posted.status_code == 200, posted.text
        assert posted.json()["recorded"] == len(events)
        wait_for_exposures(db_url, {"gen-ab": 5 * len(USERS), "chat-ab": 3 * len(USERS)})

    store = open_event_store(db_url)
    try:
        chat_exposures = store.exposures("chat-ab")
        assert all(x.arm == chat_arm[x.user_id].arm and not x.error and x.completion_tokens > 0 for x in chat_exposures)
        assert {x.target for x in chat_exposures} == {"feature:explain_code"}
        assert Counter(x.target for x in store.exposures("gen-ab")) == {"code_generations": 3 * len(USERS),
                                                                        "infill": 2 * len(USERS)}
        assert {x.cost > 0 for x in store.exposures("gen-ab") if x.arm == "treatment"} == {True}
    finally:
        store.close()

    def arms(data: dict[str, Any]) -> dict[str, tuple[int, float, float]]:
        return {a["arm"]: (a["users"], a["shown"], a["accepted"]) for a in data["arms"]}

    def expected(assigned: dict[str, Any], shown: int) -> dict[str, tuple[int, float, float]]:
        """arm → (users, shown, accepted) for ``shown`` suggestions per user, accepted as posted."""
        out = {}
        for arm in ("control", "treatment"):
            mine = [i for i, u in enumerate(USERS) if assigned[u].arm == arm]
            out[arm] = (len(mine), len(mine) * shown, sum(_accepted(i, arm, shown) for i in mine))
        return out

    generations = _analyze(tmp_path, db_url, "gen-ab", "--target", "code_generations")
    assert arms(generations) == expected(gen_arm, 3) and generations["control"] == "control"
    assert arms(_analyze(tmp_path, db_url, "gen-ab", "--target", "infill")) == expected(gen_arm, 2)
    both = arms(_analyze(tmp_path, db_url, "gen-ab"))
    assert {arm: v[1] for arm, v in both.items()} == {arm: v[1] for arm, v in expected(gen_arm, 5).items()}
    features = _analyze(tmp_path, db_url, "chat-ab", "--target", "feature:explain_code")
    assert arms(features) == expected(chat_arm, 3) and features["verdict"] in ("ship", "don't ship", "keep running")
    assert arms(_analyze(tmp_path, db_url, "chat-ab", "--target", "features")) == arms(features)


@pytest.mark.parametrize(("target", "words"), [("code_generation", "unknown target 'code_generation'"),
                                               ("code_completions", "on target 'code_completions'")])
def test_analyze_names_a_bad_or_empty_target(tmp_path: Path, target: str, words: str) -> None:
    db_url = f"sqlite:///{tmp_path / 'events.db'}"
    store = open_event_store(db_url)
    store.add_exposures([Exposure("gen-ab", "control", "dev-0", time.time(), "9f" * 16, 5.0, 1, 1, False, 0.0,
                                  target="code_generations")])
    store.close()
    result = analyze("gen-ab", "--db", db_url, "--target", target)
    assert result.exit_code == 2 and words in result.output, result.output


def test_streamed_suggestions_carry_the_arm_and_record_their_tokens(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'events.db'}"
    user = USERS[0]
    gen, chat = assign_arm(ExperimentConfig(**GEN), user), assign_arm(ExperimentConfig(**CHAT), user)
    v4 = {"prompt_components": [{"type": "code_editor_generation", "payload": _file(prompt="add f", stream=True)}]}
    with live_server(_settings(db_url)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        with client.stream("POST", "/v4/code/suggestions", json=v4, headers={USER_HEADER: user}) as r:
            assert r.status_code == 200 and OPAQUE.fullmatch(r.headers["X-Assay-Trace-Id"])
            start = json.loads(r.read().decode().split("\n")[1].removeprefix("data: "))
        assert start["metadata"]["experiments"] == [{"name": "gen-ab", "variant": gen.variant}]
        assert start["metadata"]["model"]["name"] == _model(gen.arm)
        v2 = {"current_file": _file(), "prompt_version": 2, "prompt": "add f", "stream": True}
        with client.stream("POST", "/v2/code/generations", json=v2, headers={USER_HEADER: user}) as r:
            assert r.read().decode() == REPLY[_model(gen.arm)]
            assert OPAQUE.fullmatch(r.headers["X-Assay-Trace-Id"])
        with client.stream("POST", "/v1/prompts/explain_code", json={"inputs": {"code": "x = 1"}, "stream": True},
                           headers={USER_HEADER: user}) as r:
            assert r.read().decode().endswith(REPLY[_model(chat.arm)])
            assert OPAQUE.fullmatch(r.headers["X-Assay-Trace-Id"])
            assert json.loads(r.headers["X-Assay-Experiments"])[0]["arm"] == chat.arm
        wait_for_exposures(db_url, {"gen-ab": 2, "chat-ab": 1})
    store = open_event_store(db_url)
    try:
        exposures = store.exposures("gen-ab") + store.exposures("chat-ab")
        assert all(x.completion_tokens > 0 and x.user_id == user for x in exposures)
        assert [x.target for x in exposures] == ["code_generations", "code_generations", "feature:explain_code"]
    finally:
        store.close()
