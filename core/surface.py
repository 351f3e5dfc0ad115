"""The loss surface L(w, b) and its exact gradient on a grid, computed in parallel threads."""

from __future__ import annotations

import itertools
import os
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import kernels
from .model import Model, check_int, check_real

# Below this many time steps of work a grid is computed on the calling thread alone:
# starting threads would cost more than it saves.
_PARALLEL_WORK_MIN = 200_000


def default_threads() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True, eq=False)
class Surface:
    """L and ∇L on a grid. Arrays are indexed [b, w]: row = b, column = w (Plotly's z[y][x])."""

    model: Model
    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    grad_w: np.ndarray
    grad_b: np.ndarray

    @property
    def grad_norm(self) -> np.ndarray:
        """‖∇L‖ at every grid point: the cliff, where it is large."""
        return np.hypot(self.grad_w, self.grad_b)


def _check_range(name: str, value: Any) -> tuple[float, float]:
    try:
        first, second = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (min, max), got {value!r}") from None
    lo = check_real(f"{name}[0]", first)
    hi = check_real(f"{name}[1]", second)
    if not lo < hi:
        raise ValueError(f"{name} must have min < max, got ({lo!r}, {hi!r})")
    return lo, hi


def surface(model: Model, w_range: tuple[float, float] = (0.0, 10.0),
            b_range: tuple[float, float] = (-8.0, 2.0), n: int = 256,
            threads: int | None = None) -> Surface:
    """Evaluate L and ∇L of ``model`` on an n × n grid, endpoints included.

    Parameters
    ----------
    model : Model
    w_range, b_range : (float, float)
        The axes' (min, max), min < max.
    n : int
        Grid points per axis, >= 2.
    threads : int, optional
        Threads to split the rows over; default: the CPUs this process may use.
        Each call starts its own threads, so concurrent calls never share state.
    """
    if not isinstance(model, Model):
        raise ValueError(f"model must be a core.Model, got {type(model).__name__}")
    w_lo, w_hi = _check_range("w_range", w_range)
    b_lo, b_hi = _check_range("b_range", b_range)
    n = check_int("n", n, lo=2)
    threads = default_threads() if threads is None else check_int("threads", threads, lo=1)

    w = np.linspace(w_lo, w_hi, n)
    b = np.linspace(b_lo, b_hi, n)
    loss = np.empty((n, n))
    grad_w = np.empty((n, n))
    grad_b = np.empty((n, n))
    args = model.kernel_args()

    threads = min(threads, n)
    if threads == 1 or n * n * model.T < _PARALLEL_WORK_MIN:
        kernels.surface_rows(w, b, 0, n, *args, loss, grad_w, grad_b)
    else:
        _fill_in_threads(w, b, args, loss, grad_w, grad_b, threads)
    return Surface(model, w, b, loss, grad_w, grad_b)


def _fill_in_threads(w: np.ndarray, b: np.ndarray, args: tuple, loss: np.ndarray,
                     grad_w: np.ndarray, grad_b: np.ndarray, threads: int) -> None:
    """Fill the grids with ``threads`` threads (the caller's and threads − 1 new ones).

    Rows go out in blocks, a few per thread, from a counter the threads share, rather
    than in one even split: a thread that the machine's other work slows down (other
    requests, other processes) then costs only its last block, not its whole share.
    The kernel releases the GIL; the threads share nothing but the output arrays,
    whose blocks are disjoint, and they belong to this call alone.
    """
    n = b.shape[0]
    rows = -(-n // (4 * threads))
    blocks = -(-n // rows)
    counter = itertools.count()  # next() is atomic: each block is taken once
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while (k := next(counter)) < blocks:
                kernels.surface_rows(w, b, k * rows, min(n, (k + 1) * rows), *args,
                                     loss, grad_w, grad_b)
        except BaseException as e:  # re-raised on the calling thread
            errors.append(e)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads - 1)]
    for t in workers:
        t.start()
    work()
    for t in workers:
        t.join()
    if errors:
        raise errors[0]
