"""A tiny OpenAI-compatible upstream (real uvicorn server, real socket) that records every request body.

It answers ``POST /v1/completions`` and ``POST /v1/chat/completions`` with plain JSON (the ``openai``
provider accepts that as well as SSE). Its answer repeats the first assay placeholder it received, so
tests can check that placeholders are restored on the way back, plus one placeholder it never
received, which must never reach a client.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = re.compile(r"<ASSAY_SECRET_\d+>")
INVENTED = "<ASSAY_SECRET_999>"


@dataclass
class Recorder:
    url: str = ""
    bodies: list[str] = field(default_factory=list)
    """Every request body exactly as received (raw text, before JSON parsing)."""

    def received(self) -> str:
        return "\n".join(self.bodies)


def _reply(body: dict[str, Any]) -> str:
    seen = PLACEHOLDER.findall(json.dumps(body))
    echoed = seen[0] if seen else "nothing"
    return f"use({echoed!r})\nbad({INVENTED!r})\n"


def _app(recorder: Recorder):  # noqa: ANN202
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def completions(request: Request) -> JSONResponse:
        raw = (await request.body()).decode("utf-8")
        recorder.bodies.append(raw)
        body = json.loads(raw)
        return JSONResponse({"id": "cmpl-1", "object": "text_completion", "model": body.get("model"),
                             "choices": [{"index": 0, "text": _reply(body), "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1}})

    async def chat(request: Request) -> JSONResponse:
        raw = (await request.body()).decode("utf-8")
        recorder.bodies.append(raw)
        body = json.loads(raw)
        return JSONResponse({"id": "chat-1", "object": "chat.completion", "model": body.get("model"),
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": _reply(body)}}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1}})

    return Starlette(routes=[Route("/v1/completions", completions, methods=["POST"]),
                             Route("/v1/chat/completions", chat, methods=["POST"])])


@contextmanager
def recording_upstream() -> Iterator[Recorder]:
    """Serve the recording upstream on 127.0.0.1 and a free port until the block exits."""
    import uvicorn

    recorder = Recorder()
    server = uvicorn.Server(uvicorn.Config(_app(recorder), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), name="recording-upstream", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the recording upstream did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    recorder.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield recorder
    finally:
        server.should_exit = True
        thread.join(timeout=10)
