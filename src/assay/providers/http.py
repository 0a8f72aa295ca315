"""HTTP plumbing shared by the remote providers: one client per model, SSE reading, errors mapped once.

Mapping (always a one-line message naming the model and the upstream URL)::

    httpx timeout (connect, or no bytes for timeout_s)  → ProviderTimeout (504)
    connection refused / reset, protocol error          → ProviderError (502)
    HTTP 429                                            → RateLimited (429, Retry-After kept)
    HTTP 401 / 403                                      → ProviderError (502) naming authentication
    any other HTTP status >= 400                        → ProviderError (502) naming the status
    a body that is neither SSE nor JSON, or bad JSON    → ProviderError (502) "unusable response"
    the time budget ran out before any text arrived     → ProviderTimeout (504), see :func:`silent_upstream`

A 200 JSON body (an upstream that ignored ``stream: true``) is passed on as one event named ``json``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from assay.config import ModelConfig
from assay.errors import AssayError, ProviderError, ProviderTimeout, RateLimited


@dataclass(frozen=True)
class Event:
    """One upstream event: the SSE ``event:`` name (``message`` by default) and its parsed JSON data."""

    name: str
    data: Any


def make_client(config: ModelConfig, base_url: str, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=httpx.Timeout(config.timeout_s))


def _detail(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
    else:
        err = data.get("error", data.get("detail", data)) if isinstance(data, dict) else data
        text = str(err.get("message", err)) if isinstance(err, dict) else str(err)
    text = " ".join(text.split())
    return text[:200] + ("…" if len(text) > 200 else "")


def status_error(who: str, url: str, response: httpx.Response, body: bytes) -> ProviderError:
    status = response.status_code
    detail = _detail(body)
    suffix = f": {detail}" if detail else ""
    if status == 429:
        retry = response.headers.get("retry-after")
        try:
            retry_s = float(retry) if retry is not None else None
        except ValueError:
            retry_s = None
        return RateLimited(f"{who}: upstream {url} is rate-limiting requests (HTTP 429){suffix}", retry_s)
    if status in (401, 403):
        return ProviderError(f"{who}: upstream {url} refused authentication (HTTP {status}); check api_key_env{suffix}")
    return ProviderError(f"{who}: upstream {url} answered HTTP {status}{suffix}")


def _parse(who: str, url: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        snippet = " ".join(raw.split())[:80]
        raise ProviderError(f"{who}: upstream {url} sent an unusable response: not JSON: {snippet!r}") from None


async def events(client: httpx.AsyncClient, path: str, body: dict[str, Any], who: str,
                 done_marker: str | None = "[DONE]") -> AsyncIterator[Event]:
    """POST ``body`` to ``path`` and yield its events until the stream ends (or ``done_marker`` data)."""
    request = client.build_request("POST", path, json=body)
    url = str(request.url)
    try:
        response = await client.send(request, stream=True)
    except httpx.TimeoutException:
        raise ProviderTimeout(f"{who}: upstream {url} did not answer within {client.timeout.read:g}s") from None
    except httpx.HTTPError as exc:
        raise ProviderError(f"{who}: cannot reach upstream {url}: {type(exc).__name__}") from None
    try:
        if response.status_code >= 400:
            raise status_error(who, url, response, await response.aread())
        kind = response.headers.get("content-type", "").partition(";")[0].strip()
        if kind == "application/json":
            yield Event("json", _parse(who, url, (await response.aread()).decode("utf-8", "replace")))
            return
        try:
            async for sse in EventSource(response).aiter_sse():
                if done_marker is not None and sse.data.strip() == done_marker:
                    return
                if sse.data:
                    yield Event(sse.event or "message", _parse(who, url, sse.data))
        except SSEError:
            raise ProviderError(f"{who}: upstream {url} sent an unusable response (content-type {kind or 'none'!r})") from None
    except httpx.TimeoutException:
        raise ProviderTimeout(f"{who}: upstream {url} stopped sending for {client.timeout.read:g}s") from None
    except httpx.HTTPError as exc:
        raise ProviderError(f"{who}: upstream {url} broke the stream: {type(exc).__name__}") from None
    finally:
        await response.aclose()


class Deadline:
    """A wall-time budget over an async iterator: :meth:`take` yields items until the budget runs out."""

    def __init__(self, budget_s: float | None) -> None:
        self.at = time.monotonic() + budget_s if budget_s is not None else None
        self.expired = False

    async def take(self, source: AsyncIterator[Any]) -> AsyncIterator[Any]:
        iterator = aiter(source)
        try:
            while True:
                if self.at is None:
                    item = await anext(iterator)
                else:
                    remaining = self.at - time.monotonic()
                    if remaining <= 0:
                        self.expired = True
                        return
                    try:
                        item = await asyncio.wait_for(anext(iterator), remaining)
                    except TimeoutError:
                        self.expired = True
                        return
                yield item
        except StopAsyncIteration:
            return
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()


def silent_upstream(who: str, client: httpx.AsyncClient, path: str, budget_s: float | None,
                    answered: bool) -> ProviderTimeout:
    """The wall-time budget ran out before the upstream sent any text.

    A budget that ends after some text is a normal, truncated suggestion (``FinishReason.TIME``). One that
    ends before any (an upstream that accepts the connection and never answers, or answers and then
    produces nothing) must not look like "the model had nothing to suggest": it is a 504 naming the
    upstream and the budget. ``answered`` says whether any event came back at all.
    """
    url = str(client.build_request("POST", path).url)
    what = "answered but sent no text" if answered else "sent nothing"
    budget = f"{budget_s:g} s" if budget_s is not None else "its budget"
    return ProviderTimeout(f"{who}: upstream {url} {what} within the time budget of {budget} (time_budget_s)")


def unexpected(who: str, exc: Exception) -> AssayError:
    """Any non-assay exception from a remote provider, as a one-line ProviderError."""
    if isinstance(exc, AssayError):
        return exc
    return ProviderError(f"{who}: unusable upstream response: {type(exc).__name__}: {exc}"[:300])
