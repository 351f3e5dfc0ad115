"""/api: the loss surface and batches of descent runs, as JSON (SPEC §4).

Each route validates, checks the work budget, then makes one call of the public
``core`` API on a worker thread. A surface is a pure function of its query, so it
carries an ETag and may be cached by browsers, proxies and CDNs.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

import core
from core import limits

from . import encoding
from .errors import InputError
from .schemas import (
    ModelParams,
    SurfaceOut,
    SurfaceQuery,
    TrajectoriesOut,
    TrajectoriesRequest,
)

try:
    VERSION = version("cliffscape")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0"

REFUSED = {413: {"description": "The body is over the size limit."},
           422: {"description": "Bad input, or over a work limit: the field and what is allowed."}}

router = APIRouter(prefix="/api", tags=["api"], responses={422: REFUSED[422]})


def make_model(params: ModelParams) -> core.Model:
    return core.Model(**params.model_dump())


def check_range(lo_name: str, lo: float, hi_name: str, hi: float) -> None:
    if not lo < hi:
        raise InputError(["query", hi_name], f"{hi_name} must be greater than {lo_name}, "
                         f"got {lo_name} = {lo:g} and {hi_name} = {hi:g}")


def surface_work(q: SurfaceQuery) -> int:
    """Time steps of the recurrence the grid costs; refused over SURFACE_WORK_MAX."""
    work = q.n * q.n * q.T
    if work > limits.SURFACE_WORK_MAX:
        most_t = limits.SURFACE_WORK_MAX // limits.GRID_MAX**2
        raise InputError(["query", "n"], f"n²·T = {q.n}²·{q.T} = {work} is over the work limit "
                         f"of {limits.SURFACE_WORK_MAX} per surface (n = {limits.GRID_MAX} "
                         f"at T = {most_t}): lower n or T", "work_limit")
    return work


def runs_work(T: int, runs: list[tuple[int, str]], loc: list[str | int]) -> int:
    """Time steps a batch of (steps, optimizer) runs costs; refused over TRAJECTORY_WORK_MAX."""
    work = sum(limits.trajectory_work(T, steps, optimizer) for steps, optimizer in runs)
    if work > limits.TRAJECTORY_WORK_MAX:
        raise InputError(loc, f"(steps + 1)·T summed over the runs (twice for nesterov and "
                         f"gauss_newton) is {work}, over the work limit of "
                         f"{limits.TRAJECTORY_WORK_MAX} per request: lower steps or T",
                         "work_limit")
    return work


def etag_of(q: SurfaceQuery) -> str:
    key = f"{VERSION}|{sorted(q.model_dump().items())}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


@router.get("/surface", response_model=SurfaceOut,
            responses={304: {"description": "Not modified: the If-None-Match ETag still holds."}})
async def get_surface(q: Annotated[SurfaceQuery, Query()], request: Request) -> Response:
    """L and ∇L on an n × n grid over [w_min, w_max] × [b_min, b_max]; rows are b, columns w."""
    check_range("w_min", q.w_min, "w_max", q.w_max)
    check_range("b_min", q.b_min, "b_max", q.b_max)
    work = surface_work(q)
    state = request.app.state
    etag = etag_of(q)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={state.settings.cache_max_age}"}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    params = q.model()

    def compute() -> bytes:
        s = core.surface(make_model(params), (q.w_min, q.w_max), (q.b_min, q.b_max), q.n)
        return encoding.surface_body(params.model_dump(), s, q.encoding)

    async def compute_off_loop() -> bytes:
        return await state.work.run(work, compute)

    body = await state.surfaces.get_or_compute(etag, compute_off_loop)
    return Response(body, media_type="application/json", headers=headers)


@router.post("/trajectories", response_model=TrajectoriesOut, responses={413: REFUSED[413]})
async def post_trajectories(body: TrajectoriesRequest, request: Request) -> Response:
    """Descend L from one start point with 1 … 8 runs, each its own optimizer and clipping."""
    work = runs_work(body.model.T, [(r.steps, r.optimizer) for r in body.runs], ["body", "runs"])
    model = make_model(body.model)
    start = (body.start.w, body.start.b)
    runs = [r.run_kwargs() for r in body.runs]

    def compute() -> bytes:
        trajectories = [core.trajectory(model, start, **run) for run in runs]
        return encoding.trajectories_body([r.label for r in body.runs], trajectories)

    content = await request.app.state.work.run(work, compute)
    return Response(content, media_type="application/json")
