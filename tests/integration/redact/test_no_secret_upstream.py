"""End to end: a real gateway whose model is ``provider: openai`` pointing at a real recording upstream.

Every secret snippet of the labeled corpus is sent through ``/v1/completions`` (prompt + suffix, plain
and streamed), ``/v2/code/completions`` (current file + ``context[]``) and ``/v1/chat/completions``;
the upstream's received request bodies must hold none of the secrets, but must hold their
placeholders (the material was sent, redacted). The upstream echoes a placeholder it received and one
it invented: clients get the first restored and never see the second. Path exclusion is checked the
same way: excluded files never reach the upstream, and an excluded current file causes no upstream
call at all. Nothing is mocked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.redact.recording_upstream import INVENTED, PLACEHOLDER, Recorder, recording_upstream
from tests.support.live_server import LiveServer, live_server

CORPUS = Path(__file__).parents[2] / "unit" / "redact" / "corpus" / "secrets.jsonl"
ROWS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
CHUNK = 40


def _chunks() -> list[list[dict[str, Any]]]:
    return [ROWS[i:i + CHUNK] for i in range(0, len(ROWS), CHUNK)]


def _text(rows: list[dict[str, Any]]) -> str:
    return "".join(r["text"] if r["text"].endswith("\n") else r["text"] + "\n" for r in rows)


def _secrets(rows: list[dict[str, Any]]) -> list[str]:
    return [s for r in rows for s in r["secrets"]]


def _sent_texts(body: str) -> str:
    """The text fields of one upstream request: the prompt or every message's content."""
    data = json.loads(body)
    if "prompt" in data:
        return data["prompt"]
    return "\n".join(m["content"] for m in data["messages"])


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[LiveServer, Recorder]]:
    with recording_upstream() as upstream:
        settings = {
            "models": [{"name": "remote", "provider": "openai", "base_url": upstream.url,
                        "model": "qwen2.5-coder-7b", "spec": "qwen2.5-coder", "timeout_s": 10,
                        "options": {"stream_usage": False}}],
            "exclusion": {"patterns": ["**/.env"], "projects": {"group/app": ["secrets/**"]}},
        }
        with live_server(settings) as gateway:
            yield gateway, upstream


def _assert_nothing_leaked(upstream: Recorder, start: int, rows: list[dict[str, Any]]) -> set[str]:
    bodies = upstream.bodies[start:]
    assert bodies, "the request never reached the upstream"
    sent = "\n".join(_sent_texts(b) for b in bodies)
    raw = "\n".join(bodies)
    leaked = [s for s in _secrets(rows) if s in sent or json.dumps(s)[1:-1] in raw]
    assert not leaked, f"{len(leaked)} secrets reached the upstream, e.g. {leaked[0][:12]}…"
    return set(PLACEHOLDER.findall(sent))


def _assert_restored(text: str, rows: list[dict[str, Any]]) -> None:
    assert "<ASSAY_SECRET" not in text and INVENTED not in text
    assert any(s in text for s in _secrets(rows)), text


def test_completions_with_suffix_send_no_secret(stack: tuple[LiveServer, Recorder]) -> None:
    gateway, upstream = stack
    chunks = _chunks()
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        for prefix_rows, suffix_rows in zip(chunks[0::2], chunks[1::2], strict=False):
            rows = prefix_rows + suffix_rows
            start = len(upstream.bodies)
            response = client.post("/v1/completions", json={
                "model": "remote", "prompt": _text(prefix_rows) + "\n", "suffix": _text(suffix_rows),
                "max_tokens": 32})
            assert response.status_code == 200, response.text
            placeholders = _assert_nothing_leaked(upstream, start, rows)
            assert len(placeholders) >= len(rows)
            _assert_restored(response.json()["choices"][0]["text"], rows)


def test_streamed_completions_restore_placeholders_and_send_no_secret(stack: tuple[LiveServer, Recorder]) -> None:
    gateway, upstream = stack
    rows = _chunks()[0]
    start = len(upstream.bodies)
    text = ""
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        with client.stream("POST", "/v1/completions", json={
                "model": "remote", "prompt": _text(rows), "max_tokens": 32, "stream": True}) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    text += json.loads(line[6:])["choices"][0]["text"]
    _assert_nothing_leaked(upstream, start, rows)
    _assert_restored(text, rows)


def test_gitlab_completions_with_context_send_no_secret(stack: tuple[LiveServer, Recorder]) -> None:
    gateway, upstream = stack
    chunks = _chunks()
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        for i in range(0, len(chunks), 3):
            group = chunks[i:i + 3]
            rows = [r for c in group for r in c]
            context = [{"type": "file", "name": f"lib/part{j}.py", "content": _text(c)} for j, c in enumerate(group)]
            start = len(upstream.bodies)
            response = client.post("/v2/code/completions", json={
                "project_path": "group/app",
                "current_file": {"file_name": "app/settings.py", "content_above_cursor": _text(group[0]) + "\n",
                                 "content_below_cursor": _text(group[-1])},
                "context": context})
            assert response.status_code == 200, response.text
            placeholders = _assert_nothing_leaked(upstream, start, rows)
            assert len(placeholders) >= len(group[0]) + len(group[-1])
            for choice in response.json()["choices"]:
                assert "<ASSAY_SECRET" not in choice["text"] and INVENTED not in choice["text"]


def test_chat_sends_no_secret(stack: tuple[LiveServer, Recorder]) -> None:
    gateway, upstream = stack
    start = len(upstream.bodies)
    messages = [{"role": "system", "content": "You review configuration files."}]
    messages += [{"role": "user", "content": f"What is wrong here?\n{_text(c)}"} for c in _chunks()]
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        response = client.post("/v1/chat/completions", json={"model": "remote", "messages": messages})
    assert response.status_code == 200, response.text
    placeholders = _assert_nothing_leaked(upstream, start, ROWS)
    assert len(placeholders) >= len(ROWS)
    _assert_restored(response.json()["choices"][0]["message"]["content"], ROWS)


def test_excluded_context_files_never_reach_the_upstream(stack: tuple[LiveServer, Recorder]) -> None:
    gateway, upstream = stack
    above = "def load_settings(path):\n    with open(path) as handle:\n        return parse_settings(handle)\n\n"
    similar = above + "# {marker}\n"
    start = len(upstream.bodies)
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        response = client.post("/v2/code/completions", json={
            "project_path": "group/app",
            "current_file": {"file_name": "app/config.py", "content_above_cursor": above, "content_below_cursor": ""},
            "context": [{"type": "file", "name": "lib/loader.py", "content": similar.format(marker="CONTROL_MARKER_1")},
                        {"type": "file", "name": "secrets/loader.py", "content": similar.format(marker="EXCLUDED_2")},
                        {"type": "file", "name": "deploy/.env", "content": similar.format(marker="EXCLUDED_3")}]})
    assert response.status_code == 200, response.text
    sent = "\n".join(upstream.bodies[start:])
    assert "CONTROL_MARKER_1" in sent
    assert "EXCLUDED_2" not in sent and "EXCLUDED_3" not in sent


@pytest.mark.parametrize(("route", "file_name", "project"), [
    ("/v2/code/completions", "secrets/db.yaml", "group/app"),
    ("/v2/code/completions", "services/api/.env", None),
    ("/v2/code/generations", "secrets/db.yaml", "group/app"),
])
def test_an_excluded_current_file_gets_no_suggestion_and_no_upstream_call(
        stack: tuple[LiveServer, Recorder], route: str, file_name: str, project: str | None) -> None:
    gateway, upstream = stack
    start = len(upstream.bodies)
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        response = client.post(route, json={
            "project_path": project,
            "current_file": {"file_name": file_name, "content_above_cursor": "password: ",
                             "content_below_cursor": "\n"}})
    assert response.status_code == 200, response.text
    assert response.json()["choices"] == []
    assert upstream.bodies[start:] == []


def test_the_same_file_in_another_project_is_not_excluded(stack: tuple[LiveServer, Recorder]) -> None:
    gateway, upstream = stack
    start = len(upstream.bodies)
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        response = client.post("/v2/code/completions", json={
            "project_path": "group/other",
            "current_file": {"file_name": "secrets/db.yaml", "content_above_cursor": "name: ",
                             "content_below_cursor": "\n"}})
    assert response.status_code == 200, response.text
    assert len(upstream.bodies[start:]) == 1
