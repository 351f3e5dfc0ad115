"""Numeric limits of cliffscape, in one place.

Shared by `core`'s validation, the HTTP schemas and the documentation, so that the
library, the API and the README can never disagree about what is allowed.
"""

from __future__ import annotations

T_MIN = 1
T_MAX = 1000

GRID_MIN = 2
GRID_MAX = 1024

STEPS_MIN = 0
STEPS_MAX = 100_000

RUNS_MAX = 8

# Work budgets per request, counted in time steps of the recurrence (one φ
# evaluation each), so that no single request can hold the server for long:
# n = 1024 at T = 250, or n = 512 at T = 1000, is about a second on two cores.
# A batch of runs is bounded the same way (Nesterov and Gauss–Newton count their
# second evaluation per step): 100 000 steps at T = 1000 is a few seconds.
SURFACE_WORK_MAX = GRID_MAX * GRID_MAX * 250
TRAJECTORY_WORK_MAX = 100_000_000

# Parameters (w, b), starting points and ranges live in a box wide enough for
# every figure in the literature and small enough that nothing silly happens.
PARAM_ABS_MAX = 1e3
# x0 and target: any finite value of that size.
VALUE_ABS_MAX = 1e3
REG_MAX = 1e3
LR_MIN = 0.0  # exclusive
LR_MAX = 1e3
THRESHOLD_MAX = 1e6
MOMENTUM_MAX = 0.999  # momentum in [0, MOMENTUM_MAX]
DAMPING_MAX = 1e6
SEED_MAX = 2**63 - 1

ACTIVATIONS = ("sigmoid", "tanh")
OPTIMIZERS = ("gd", "momentum", "nesterov", "adam", "gauss_newton")
CLIPS = ("none", "norm", "value", "hidden", "random")
ON_NONFINITE = ("stop", "random_step")
EVENTS = ("", "random_step", "rejected", "nonfinite")


def trajectory_work(T: int, steps: int, optimizer: str) -> int:
    """Time steps of the recurrence one run costs, at most."""
    evaluations = 2 if optimizer in ("nesterov", "gauss_newton") else 1
    return (steps + 1) * T * evaluations
