"""Pure ASGI middleware: the ``X-Process-Time`` header, the request-body size limit, and the 500 answer
for unexpected exceptions."""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.server.errors import error_response, unexpected_error_response


class ProcessTimeMiddleware:
    """Adds ``X-Process-Time`` (seconds until the response headers left) to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "x-process-time" not in headers:
                    headers.append("X-Process-Time", f"{time.perf_counter() - start:.6f}")
            await send(message)

        await self.app(scope, receive, timed_send)


DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
"""How much of a rejected body is read and dropped so that the client sees the 413 rather than a reset."""


async def _drain(receive: Receive, limit: int) -> None:
    drained = 0
    while drained <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class BodyLimitMiddleware:
    """Answers 413 for a body over ``max_bytes``, judged by Content-Length and by the bytes actually
    received, before anything parses it. Accepted bodies are buffered and replayed to the app."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(path, scope, receive, send, f"{int(declared)} bytes", more=True)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(path, scope, receive, send, f"more than {self.max_bytes} bytes",
                                   more=message.get("more_body", False))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, path: str, scope: Scope, receive: Receive, send: Send, size: str, *,
                      more: bool) -> None:
        if more:
            await _drain(receive, DRAIN_LIMIT_BYTES)
        response = error_response(path, 413, f"request body is {size}; the limit is {self.max_bytes} bytes "
                                             "(server.max_body_bytes)", headers={"Connection": "close"})
        await response(scope, receive, send)


class CatchAllMiddleware:
    """Turns an exception that escaped every handler into a one-line 500 (if no response has started)
    and swallows it, so the server keeps the client's connection and keeps serving."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = unexpected_error_response(scope["method"], scope.get("path", ""), exc)
            await response(scope, receive, send)
