"""/api/trajectories/stream: one run as Server-Sent Events, computed only as fast as it is read.

The run is computed a chunk of points at a time on a worker thread; each chunk is
sent before the next is computed, so a client that goes away stops the work within
one chunk. The points are exactly those of ``POST /api/trajectories`` for that run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

import core
from core import iter_trajectory, limits

from . import encoding
from .api import make_model, runs_work
from .errors import InputError
from .schemas import DoneEvent, PointEvent, StreamQuery
from .work import Workers

router = APIRouter(prefix="/api", tags=["api"])


class EventStream(StreamingResponse):
    """Server-Sent Events that this module writes itself, a whole chunk of them at a time.

    (FastAPI's ``EventSourceResponse`` would make the route a generator, one event per
    yield, each through two queues: ten times the cost of a stream of short events.)
    """

    media_type = "text/event-stream"

_EVENTS_DOC = (
    "One `point` event per recorded step k = 0 … K, its data a JSON object "
    f"({', '.join(PointEvent.model_fields)}; non-finite values are null), then one "
    f"`done` event ({', '.join(DoneEvent.model_fields)})."
)


async def events(spec: core.RunSpec, chunk: int, work: Workers) -> AsyncIterator[bytes]:
    chunks = iter_trajectory(spec.model, spec.start, chunk=chunk, **spec.run_kwargs())

    def next_events() -> tuple[core.Trajectory, bytes]:
        part = next(chunks)
        return part, encoding.point_events(part)

    try:
        while True:
            # A chunk is light work by construction (see ``stream``), whatever the run's length.
            part, data = await work.run(0, next_events)
            yield data
            if part.stopped != "running":
                yield encoding.done_event(part.stopped, part.steps)
                return
    finally:
        chunks.close()


@router.get("/trajectories/stream", response_class=EventStream,
            responses={200: {"description": _EVENTS_DOC,
                             "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def stream(q: Annotated[StreamQuery, Query()], request: Request) -> EventStream:
    """One run, from (w0, b0), streamed as it is computed."""
    runs_work(q.T, [(q.steps, q.optimizer)], ["query", "steps"])
    try:
        spec = core.RunSpec.make(make_model(q.model()), (q.w0, q.b0), **q.run_kwargs())
    except ValueError as e:  # the schema is narrower than core; kept as a safety net
        raise InputError(["query"], str(e)) from None
    state = request.app.state
    evaluations = limits.trajectory_work(q.T, 0, q.optimizer) // q.T
    chunk = max(1, min(state.settings.stream_chunk,
                       state.work.light_work // (q.T * evaluations)))
    return EventStream(events(spec, chunk, state.work),
                               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
