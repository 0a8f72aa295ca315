"""Run a real assay server (uvicorn, real socket on a free port) in a background thread, for tests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.config import Settings
    from assay.pipeline.engine import Engine


@dataclass(frozen=True)
class LiveServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextmanager
def live_server(settings: Settings | dict[str, Any], engine: Engine | None = None,
                start_timeout_s: float = 60.0) -> Iterator[LiveServer]:
    """Serve ``create_app(settings, engine)`` on 127.0.0.1 and a free port until the block exits.

    Settings that do not mention ``auth`` are served with ``auth.mode: none`` (tests of other parts need
    no credentials); tests of authentication pass ``auth`` explicitly."""
    import uvicorn

    from assay.config import Settings
    from assay.server.app import create_app

    if isinstance(settings, dict):
        settings = Settings(**settings)
    if "auth" not in settings.model_fields_set:
        settings = settings.model_copy(update={"auth": settings.auth.model_copy(update={"mode": "none"})})
    app = create_app(settings, engine)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve())
        except BaseException as exc:  # noqa: BLE001
            failure.append(exc)

    thread = threading.Thread(target=run, name="assay-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError(f"test server did not start: {failure[0] if failure else 'it exited'}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"test server did not start within {start_timeout_s} s")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer("127.0.0.1", port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
