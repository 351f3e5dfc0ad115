"""cliffscape's numerics: the one-unit RNN of Pascanu et al. (2013), its loss, and descent.

    from core import Model, loss_and_grad, surface, trajectory
"""

from .descent import RunSpec, Trajectory, iter_trajectory, loss_and_grad, trajectory
from .model import Model
from .surface import Surface, surface

__all__ = [
    "Model",
    "RunSpec",
    "Surface",
    "Trajectory",
    "iter_trajectory",
    "loss_and_grad",
    "surface",
    "trajectory",
]
