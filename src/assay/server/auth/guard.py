"""The gateway's guard, one pure ASGI middleware in front of every route: authenticate, check the route's
scope (:mod:`assay.server.auth.scopes`), admit against the rate limits, run the route, then charge the
tokens it used and append an audit record (refusals of a known caller, 403 and 429, are recorded
too; anonymous 401s only logged). Only ``/monitoring/*`` skips it. The route is found in the
app's own route table on each request, so routes added later are covered (undeclared ones need ``admin``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.config import Settings
from assay.errors import AssayError, AuthError, Forbidden, RateLimited
from assay.pipeline.engine import Engine
from assay.server.audit import AuditSink, Metered, meter
from assay.server.auth.authenticator import Authenticator
from assay.server.auth.principal import Principal
from assay.server.auth.routing import RouteTable
from assay.server.auth.scopes import ScopeRule, is_public, rule_for
from assay.server.deps import TRACE_HEADER
from assay.server.errors import error_response
from assay.server.ratelimit import Limiter, MemoryCounter, RedisCounter
from assay.store import Store, open_store

log = logging.getLogger("assay.server.auth")


@dataclass
class Guard:
    """Everything the middleware needs, built once per app by :meth:`from_settings`."""

    authenticator: Authenticator
    limiter: Limiter
    audit: AuditSink | None
    store: Store | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Guard:
        explicit_db = settings.database.url is not None
        store = open_store(settings.database.url) if settings.auth.mode == "keys" or explicit_db else None
        counter = RedisCounter(settings.limits.redis_url) if settings.limits.redis_url else MemoryCounter()
        return cls(Authenticator(settings, store), Limiter(settings.limits, counter),
                   AuditSink(store) if store is not None else None, store)

    async def close(self) -> None:
        await self.limiter.close()
        if self.store is not None:
            self.store.close()


def _error(path: str, exc: AssayError) -> ASGIApp:
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited) and exc.retry_after_s is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(path, exc.status_code, exc.message, headers=headers)


def authorize(principal: Principal, rule: ScopeRule, path: str) -> None:
    """``Forbidden`` (403) unless ``principal`` holds one of the rule's scopes and may use the route."""
    if principal.unrestricted:
        return
    if not rule.self_issued and principal.kind == "self_signed":
        raise Forbidden(f"direct-access tokens from /v1/code/user_access_token may not call {path}")
    if rule.scopes is not None and not principal.has_any(rule.scopes):
        needed = " or ".join(sorted(rule.scopes))
        raise Forbidden(f"{path} needs the scope {needed}; this credential has {', '.join(sorted(principal.scopes)) or 'none'}")


class GuardMiddleware:
    def __init__(self, app: ASGIApp, fastapi_app: FastAPI, guard: Guard, engine: Engine) -> None:
        self.app = app
        self.routes = RouteTable(fastapi_app)
        self.guard = guard
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        template = self.routes.lookup(scope["method"], path)
        rule = rule_for(template) if template is not None else ScopeRule("unknown", None)
        principal: Principal | None = None
        try:
            principal = await self.guard.authenticator.authenticate(Headers(scope=scope))
            authorize(principal, rule, path)
            await self.guard.limiter.admit(principal)
        except AssayError as exc:
            if isinstance(exc, AuthError) and exc.status_code == 401:
                log.info("%s %s -> 401: %s", scope["method"], path, exc.message)
            await _error(path, exc)(scope, receive, send)
            if principal is not None and self.guard.audit is not None:
                await self.guard.audit.record(principal, scope["method"], path, rule.feature, exc.status_code,
                                              Metered())
            return
        scope.setdefault("state", {})["principal"] = principal
        await self._run(scope, receive, send, principal, rule)

    async def _run(self, scope: Scope, receive: Receive, send: Send, principal: Principal, rule: ScopeRule) -> None:
        """Run the route, then charge and audit what it reported (:func:`assay.server.audit.report_usage`)
        once its response, streamed or not, is over."""
        status, trace_id = 500, None

        async def status_send(message: Message) -> None:
            nonlocal status, trace_id
            if message["type"] == "http.response.start":
                status = message["status"]
                trace_id = Headers(raw=message.get("headers", [])).get(TRACE_HEADER)
            await send(message)

        try:
            await self.app(scope, receive, status_send)
        finally:
            metered = meter(self.engine, scope.setdefault("state", {}), trace_id)
            try:
                await self.guard.limiter.charge(principal, metered.total)
            except AssayError as exc:
                log.error("tokens of %s were not charged: %s", principal.user, exc.message)
            if self.guard.audit is not None:
                await self.guard.audit.record(principal, scope["method"], scope.get("path", ""), rule.feature,
                                              status, metered)
