"""The app's flat route table (path template + methods), also through FastAPI's included-router wrappers,
so the guard can tell which route a request is for before routing runs."""

from __future__ import annotations

from dataclasses import dataclass
from re import Pattern

from fastapi import FastAPI
from starlette.routing import compile_path


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    regex: Pattern[str]


def all_routes(app: FastAPI) -> list[RouteInfo]:
    """Every HTTP route of ``app`` with its full path template."""
    try:
        from fastapi.routing import iter_route_contexts

        entries = [(c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:
        entries = [(getattr(r, "path", None), getattr(r, "methods", None)) for r in app.routes]
    out = []
    for path, methods in entries:
        if path and methods:
            out.append(RouteInfo(path, frozenset(methods), compile_path(path)[0]))
    return out


class RouteTable:
    """Looks up the route template of a request; rebuilt when the app's route list changes."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._routes: list[RouteInfo] = []
        self._built_for = -1

    def lookup(self, method: str, path: str) -> str | None:
        """The template of the route ``method path`` reaches (also on a method mismatch); None when none does."""
        if self._built_for != len(self.app.routes) or not self._routes:
            self._routes = all_routes(self.app)
            self._built_for = len(self.app.routes)
        partial = None
        for route in self._routes:
            if route.regex.match(path):
                if method in route.methods:
                    return route.path
                partial = partial or route.path
        return partial
