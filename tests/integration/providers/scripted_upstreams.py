"""Scripted upstream servers for the remote providers' tests, served by real uvicorn on real sockets.

They are scripted stand-ins, not mocks of HTTP: the assay gateway (the real second OpenAI-compatible
server) is being written in parallel, and the real Anthropic API cannot be reached from here. Each
request's ``model`` field picks the behaviour (``ok``, ``slow``, ``trickle``, ``paced``, ``500``,
``garbage``, ``html``, ``429``, ``401``, ``json``, ...), and every request is recorded for assertions.
``paced`` streams :data:`PACED_REPLY` (a FIM-as-chat answer) in small pieces ``PACE_S`` apart.
``stall`` sends its response headers (and, on chat routes, the role chunk or ``message_start``) and then
nothing for :data:`STALL_S`. :func:`silent_listener` is a hung upstream: it accepts TCP connections and never answers.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

REPLY = "return a + b\n\nprint(add(1, 2))"
PACED_REPLY = "Here you go:\n<COMPLETION>    total = a + b\n    total += 0\n    return total\n</COMPLETION>\nDone."
PACE_S = 0.05
STALL_S = 30.0


@dataclass
class Recorder:
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)
    """``time.monotonic()`` when each ``paced`` stream handed over its last text."""


def _sse(data: Any, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data if isinstance(data, str) else json.dumps(data)}\n\n"


def _pieces(text: str, size: int = 3) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def _common_fault(model: str) -> Response | None:
    if model == "500":
        return JSONResponse({"error": {"message": "CUDA out of memory", "type": "server_error"}}, status_code=500)
    if model == "429":
        return JSONResponse({"error": {"message": "slow down"}}, status_code=429, headers={"Retry-After": "3"})
    if model == "401":
        return JSONResponse({"error": {"message": "invalid api key"}}, status_code=401)
    if model == "529":
        return JSONResponse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
                            status_code=529)
    if model == "html":
        return PlainTextResponse("<html>bad gateway</html>", media_type="text/html")
    if model == "garbage":
        return StreamingResponse(iter(["data: {not json\n\n"]), media_type="text/event-stream")
    return None


def _until_stop(reply: str, stops: str | list[str] | None) -> str:
    """``reply`` cut before its first stop sequence, as the real APIs do (the ``paced`` model honours stops)."""
    cuts = [reply.find(s) for s in ([stops] if isinstance(stops, str) else stops or []) if s and s in reply]
    return reply[:min(cuts)] if cuts else reply


def openai_app(rec: Recorder) -> FastAPI:
    app = FastAPI()

    async def completions(request: Request, chat: bool) -> Response:
        body = await request.json()
        rec.requests.append(body)
        rec.headers.append(dict(request.headers))
        model = body["model"]
        if model == "slow":
            await asyncio.sleep(2)
        if (fault := _common_fault(model)) is not None:
            return fault
        n = body.get("n", 1)
        base = _until_stop(PACED_REPLY, body.get("stop")) if model == "paced" else REPLY
        texts = [base if i == 0 else f"{base} #{i}" for i in range(n)]
        usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        if model == "json":
            key = "message" if chat else "text"
            choices = [{"index": i, key: ({"role": "assistant", "content": t} if chat else t), "finish_reason": "stop"}
                       for i, t in enumerate(texts)]
            return JSONResponse({"id": "x", "object": "text_completion", "choices": choices, "usage": usage})

        def piece(i: int, text: str | None, reason: str | None) -> dict[str, Any]:
            if chat:
                return {"index": i, "delta": {} if text is None else {"content": text}, "finish_reason": reason}
            return {"index": i, "text": text or "", "finish_reason": reason}

        async def chunks() -> AsyncIterator[str]:
            delay = 0.2 if model == "trickle" else PACE_S if model == "paced" else 0.0
            if chat:
                yield _sse({"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]})
            if model == "stall":
                await asyncio.sleep(STALL_S)
            for i, text in enumerate(texts):
                for part in _pieces(text, 5 if model == "paced" else 3) * (20 if model == "trickle" else 1):
                    await asyncio.sleep(delay)
                    yield _sse({"choices": [piece(i, part, None)]})
                if model == "paced":
                    rec.finished.append(time.monotonic())
                yield _sse({"choices": [piece(i, None, "length" if model == "long" else "stop")]})
            if (body.get("stream_options") or {}).get("include_usage"):
                yield _sse({"choices": [], "usage": usage})
            if model == "midway-error":
                yield _sse({"error": {"message": "upstream fell over"}})
            yield _sse("[DONE]")

        return StreamingResponse(chunks(), media_type="text/event-stream")

    @app.post("/v1/completions")
    async def _completions(request: Request) -> Response:
        return await completions(request, chat=False)

    @app.post("/v1/chat/completions")
    async def _chat(request: Request) -> Response:
        return await completions(request, chat=True)

    return app


ANTHROPIC_REPLY = "<COMPLETION>a + b</COMPLETION>"


def anthropic_app(rec: Recorder) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/messages")
    async def messages(request: Request) -> Response:
        body = await request.json()
        rec.requests.append(body)
        rec.headers.append(dict(request.headers))
        model = body["model"]
        if model == "slow":
            await asyncio.sleep(2)
        if (fault := _common_fault(model)) is not None:
            return fault
        reason = "max_tokens" if model == "max" else "end_turn"
        if model == "json":
            return JSONResponse({"type": "message", "role": "assistant", "content": [{"type": "text", "text": ANTHROPIC_REPLY}],
                                 "stop_reason": reason, "usage": {"input_tokens": 20, "output_tokens": 9}})

        async def events() -> AsyncIterator[str]:
            yield _sse({"type": "message_start", "message": {"id": "m", "role": "assistant", "content": [],
                                                             "usage": {"input_tokens": 20, "output_tokens": 1}}},
                       "message_start")
            yield _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                       "content_block_start")
            yield _sse({"type": "ping"}, "ping")
            if model == "stall":
                await asyncio.sleep(STALL_S)
            reply = _until_stop(PACED_REPLY, body.get("stop_sequences")) if model == "paced" else ANTHROPIC_REPLY
            for part in _pieces(reply, 5) * (30 if model == "trickle" else 1):
                if model in ("trickle", "paced"):
                    await asyncio.sleep(0.2 if model == "trickle" else PACE_S)
                yield _sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": part}},
                           "content_block_delta")
            if model == "paced":
                rec.finished.append(time.monotonic())
            if model == "error-event":
                yield _sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error")
                return
            yield _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
            yield _sse({"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": None},
                        "usage": {"output_tokens": 9}}, "message_delta")
            yield _sse({"type": "message_stop"}, "message_stop")

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 and a free port in a background thread; yield its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("scripted upstream did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def silent_listener() -> Iterator[str]:
    """A hung upstream: a TCP listener on 127.0.0.1 that accepts connections, reads nothing and never
    answers (no status line, no headers). Yields its base URL (no path)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()
