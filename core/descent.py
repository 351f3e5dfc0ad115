"""Gradient descent on L(w, b): every optimizer and clipping rule of SPEC §2, and the run loop.

``trajectory`` computes a whole run; ``iter_trajectory`` computes the same run in
chunks, so that a consumer (the web stream) can stop asking and the work stops.
Both are thin, validating wrappers around the compiled ``kernels.descend``.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from . import kernels, limits
from .model import Model, check_choice, check_int, check_real

_OPTIMIZER_CODES = {name: code for code, name in enumerate(limits.OPTIMIZERS)}
_CLIP_CODES = {name: code for code, name in enumerate(limits.CLIPS)}
_NONFINITE_CODES = {name: code for code, name in enumerate(limits.ON_NONFINITE)}
_EVENT_NAMES = np.array(limits.EVENTS)
_STOPPED = {kernels.COMPLETED: "completed", kernels.STOPPED_NONFINITE: "nonfinite"}


@dataclass(frozen=True, slots=True, eq=False)
class Trajectory:
    """A run's recorded points k = 0 … K, and why it stopped.

    ``grad_w``, ``grad_b`` are the raw gradient at θ_k; ``clipped[k]`` says whether
    clipping changed the gradient used at step k; ``event[k]`` is "" or one of
    "random_step", "rejected", "nonfinite".
    """

    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    grad_w: np.ndarray
    grad_b: np.ndarray
    clipped: np.ndarray
    event: np.ndarray
    stopped: str  # "completed" | "nonfinite" (| "running" for a chunk that is not the last)
    start: int = 0  # the step number of the first point (chunks of a run start later)

    def __len__(self) -> int:
        return len(self.w)

    @property
    def steps(self) -> int:
        """K: the step number of the last point recorded."""
        return self.start + len(self.w) - 1


@dataclass(frozen=True, slots=True)
class RunSpec:
    """A validated run: what ``trajectory`` was asked for, in the kernel's terms."""

    model: Model
    start: tuple[float, float]
    optimizer: str
    lr: float
    steps: int
    clip: str
    threshold: float
    momentum: float
    damping: float
    on_nonfinite: str
    seed: int

    @classmethod
    def make(cls, model: Model, start: tuple[float, float] = (5.0, -2.0), optimizer: str = "gd",
             lr: float = 0.1, steps: int = 100, clip: str = "none", threshold: float = 1.0,
             momentum: float = 0.9, damping: float = 1.0, on_nonfinite: str = "stop",
             seed: int = 0) -> RunSpec:
        if not isinstance(model, Model):
            raise ValueError(f"model must be a core.Model, got {type(model).__name__}")
        try:
            w0, b0 = start
        except (TypeError, ValueError):
            raise ValueError(f"start must be a pair (w, b), got {start!r}") from None
        return cls(
            model=model,
            start=(check_real("start[0] (w)", w0), check_real("start[1] (b)", b0)),
            optimizer=check_choice("optimizer", optimizer, limits.OPTIMIZERS),
            lr=check_real("lr", lr, lo=0.0, lo_open=True),
            steps=check_int("steps", steps, lo=limits.STEPS_MIN),
            clip=check_choice("clip", clip, limits.CLIPS),
            threshold=check_real("threshold", threshold, lo=0.0, lo_open=True),
            momentum=check_real("momentum", momentum, lo=0.0, hi=1.0),
            damping=check_real("damping", damping, lo=0.0),
            on_nonfinite=check_choice("on_nonfinite", on_nonfinite, limits.ON_NONFINITE),
            seed=check_int("seed", seed, lo=0, hi=2**64 - 1),
        )

    def run_kwargs(self) -> dict[str, object]:
        """The keyword arguments of ``trajectory`` for this run, all but model and start."""
        return {"optimizer": self.optimizer, "lr": self.lr, "steps": self.steps,
                "clip": self.clip, "threshold": self.threshold, "momentum": self.momentum,
                "damping": self.damping, "on_nonfinite": self.on_nonfinite, "seed": self.seed}


def iter_trajectory(model: Model, start: tuple[float, float] = (5.0, -2.0), *,
                    chunk: int = 1000, **run: object) -> Generator[Trajectory, None, None]:
    """Compute the run of ``trajectory(model, start, **run)`` ``chunk`` points at a time.

    Each yielded ``Trajectory`` holds the next points (its ``start`` is the step of
    its first point); the last one's ``stopped`` is "completed" or "nonfinite", the
    others' "running". Joined, they are exactly ``trajectory``'s answer. Stopping
    the iteration stops the computation.
    """
    spec = RunSpec.make(model, start, **run)  # type: ignore[arg-type]
    chunk = check_int("chunk", chunk, lo=1)
    m = spec.model
    st = np.zeros(kernels.STATE_SIZE)
    st[kernels.S_W], st[kernels.S_B] = spec.start
    st[kernels.S_DAMPING] = spec.damping
    rng = np.array([spec.seed], dtype=np.uint64)
    xs = np.empty(m.T + 1)
    fixed = (*m.kernel_args(), _OPTIMIZER_CODES[spec.optimizer], spec.lr,
             _CLIP_CODES[spec.clip], spec.threshold, spec.momentum,
             _NONFINITE_CODES[spec.on_nonfinite], spec.steps)
    k0 = 0
    while True:
        size = min(chunk, spec.steps + 1 - k0)
        out = (np.empty(size), np.empty(size), np.empty(size), np.empty(size), np.empty(size),
               np.empty(size, dtype=np.bool_), np.empty(size, dtype=np.int8))
        written, status = kernels.descend(*fixed, k0, k0 + size, st, rng, xs, *out)
        w, b, loss, gw, gb, clipped, event = (a[:written] for a in out)
        yield Trajectory(w, b, loss, gw, gb, clipped, _EVENT_NAMES[event],
                         _STOPPED.get(status, "running"), start=k0)
        if status != kernels.RUNNING:
            return
        k0 += written


def trajectory(model: Model, start: tuple[float, float] = (5.0, -2.0), optimizer: str = "gd",
               lr: float = 0.1, steps: int = 100, clip: str = "none", threshold: float = 1.0,
               on_nonfinite: str = "stop", seed: int = 0, momentum: float = 0.9,
               damping: float = 1.0) -> Trajectory:
    """Descend L from ``start`` = (w, b) for ``steps`` steps; see SPEC §2 for every rule.

    Parameters
    ----------
    model : Model
    start : (float, float)
        θ_0 = (w, b).
    optimizer : {"gd", "momentum", "nesterov", "adam", "gauss_newton"}
    lr : float
        Learning rate ε > 0 (for Gauss–Newton, the fraction of the damped step).
    steps : int
        Steps to take, >= 0; the run records steps + 1 points unless it stops early.
    clip : {"none", "norm", "value", "hidden", "random"}
    threshold : float
        The clipping threshold v > 0 (also the length of a random step).
    on_nonfinite : {"stop", "random_step"}
        What to do when θ, L or ∇L is not finite.
    seed : int
        Seeds the random steps: the same arguments give the same run, bit for bit.
    momentum : float
        μ in [0, 1] for "momentum" and "nesterov".
    damping : float
        Initial Levenberg–Marquardt λ >= 0 for "gauss_newton".
    """
    run = dict(optimizer=optimizer, lr=lr, steps=steps, clip=clip, threshold=threshold,
               on_nonfinite=on_nonfinite, seed=seed, momentum=momentum, damping=damping)
    steps_ = check_int("steps", steps, lo=limits.STEPS_MIN)
    (whole,) = iter_trajectory(model, start, chunk=steps_ + 1, **run)
    return whole


def loss_and_grad(model: Model, w: float, b: float) -> tuple[float, float, float]:
    """L(w, b) and its exact gradient (∂L/∂w, ∂L/∂b), as floats."""
    if not isinstance(model, Model):
        raise ValueError(f"model must be a core.Model, got {type(model).__name__}")
    w = check_real("w", w)
    b = check_real("b", b)
    L, gw, gb = kernels.loss_grad(w, b, *model.kernel_args())[:3]
    return float(L), float(gw), float(gb)


