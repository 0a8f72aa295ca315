"""The FastAPI application factory. Importing this module has no side effects; ``create_app`` builds
an app around one :class:`~assay.pipeline.engine.Engine`, which the app's lifespan starts and closes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assay import __version__
from assay.config import Settings
from assay.experiments.runtime import HEADER as EXPERIMENTS_HEADER
from assay.experiments.runtime import ExperimentRuntime, ExposureMiddleware
from assay.pipeline.engine import Engine
from assay.server.auth import routes as auth_routes
from assay.server.auth.guard import Guard, GuardMiddleware
from assay.server.errors import install_error_handlers
from assay.server.middleware import BodyLimitMiddleware, CatchAllMiddleware, ProcessTimeMiddleware
from assay.server.routes import chat_features, events, gitlab, llamacpp, monitoring, openai, prompts, traces


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """An app serving every assay endpoint with ``engine`` (default: ``Engine(settings)``)."""
    engine = engine if engine is not None else Engine(settings)
    guard = Guard.from_settings(settings)
    experiments = ExperimentRuntime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        app.state.started = True
        try:
            yield
        finally:
            app.state.started = False
            await engine.close()
            await guard.close()
            experiments.close()

    app = FastAPI(title="assay", version=__version__, lifespan=lifespan,
                  description="Code-completion gateway: OpenAI-, GitLab AI Gateway- and llama.cpp-compatible.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.started = False
    app.state.ready_models = set()
    app.state.guard = guard
    app.state.experiments = experiments
    install_error_handlers(app)
    app.state.prompts = prompts.load_registry()
    app.add_middleware(ExposureMiddleware, runtime=experiments, engine=engine)
    app.add_middleware(GuardMiddleware, fastapi_app=app, guard=guard, engine=engine)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.server.max_body_bytes)
    if settings.server.cors:
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["POST"], allow_headers=["*"],
                           expose_headers=["X-Assay-Trace-Id", "X-Process-Time", "X-Streaming-Format", EXPERIMENTS_HEADER])
    app.add_middleware(ProcessTimeMiddleware)
    for module in (openai, gitlab, llamacpp, monitoring, traces, prompts, chat_features, auth_routes, events):
        app.include_router(module.router)
    return app
