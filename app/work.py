"""Where the numerics run: on worker threads, off the event loop, in two pools of slots.

Light work (the default view, a short run) and heavy work (a big grid, a long batch)
have separate slots, so that a few heavy requests can never make the light ones, or
/healthz, wait. The kernels release the GIL, so the threads really run in parallel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from .config import Settings

R = TypeVar("R")


class Workers:
    def __init__(self, settings: Settings) -> None:
        self.light_work = settings.light_work
        self._light = anyio.CapacityLimiter(settings.light_slots)
        self._heavy = anyio.CapacityLimiter(settings.heavy_slots)

    def is_light(self, work: int) -> bool:
        return work <= self.light_work

    async def run(self, work: int, fn: Callable[..., R], *args: object) -> R:
        """``fn(*args)`` on a worker thread, in the pool that ``work`` (time steps) calls for."""
        limiter = self._light if self.is_light(work) else self._heavy
        return await anyio.to_thread.run_sync(fn, *args, limiter=limiter)
