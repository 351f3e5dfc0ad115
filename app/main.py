"""The ASGI application: ``create_app()`` wires the routers, ``app`` is what uvicorn serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

import core

from . import api, errors, stream
from .cache import SurfaceCache
from .config import Settings, get_settings
from .docs import mount_docs
from .pages import mount_pages
from .security import secure
from .work import Workers


def warm_up() -> None:
    """Run every kernel once on a tiny problem, so no request pays for compiling (or loading) it."""
    for activation in ("sigmoid", "tanh"):
        m = core.Model(T=3, activation=activation, reg=0.1)
        core.surface(m, n=2)
        core.loss_and_grad(m, 1.0, 0.0)
        for clip in ("none", "hidden"):
            core.trajectory(m, (1.0, 0.0), steps=2, clip=clip)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.warm_up:
            await anyio.to_thread.run_sync(warm_up)
        yield

    app = FastAPI(
        title="cliffscape",
        summary="The cliff-shaped loss surface of a one-unit RNN, and descent on it "
                "with and without gradient clipping.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by .docs, without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.work = Workers(settings)
    app.state.surfaces = SurfaceCache(settings.surface_cache_bytes)
    errors.install(app, settings.max_body_bytes)
    secure(app, settings)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """200 while the server can take work."""
        return {"status": "ok"}

    app.include_router(api.router)
    app.include_router(stream.router)
    mount_docs(app)
    mount_pages(app)
    return app


app = create_app()
