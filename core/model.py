"""The one-unit recurrent net of Pascanu, Mikolov & Bengio (2013), eq. 8: its parameters.

``Model`` holds everything that defines the loss L(w, b) except (w, b) themselves.
It is validated on construction and immutable, so it can be shared between threads
and used as a cache key.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from . import limits

_ACTIVATION_CODES = {name: code for code, name in enumerate(limits.ACTIVATIONS)}


def check_real(name: str, value: object, *, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False) -> float:
    """Return ``value`` as a finite float, or raise ValueError naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if lo is not None and (x < lo or (lo_open and x == lo)):
        bound = f"> {lo:g}" if lo_open else f">= {lo:g}"
        raise ValueError(f"{name} must be {bound}, got {x!r}")
    if hi is not None and x > hi:
        raise ValueError(f"{name} must be <= {hi:g}, got {x!r}")
    return x


def check_int(name: str, value: object, *, lo: int, hi: int | None = None) -> int:
    """Return ``value`` as an int in [lo, hi], or raise ValueError naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    x = int(value)
    if x < lo or (hi is not None and x > hi):
        allowed = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be an integer {allowed}, got {x}")
    return x


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Model:
    """x_0 = x0, x_t = w·φ(x_{t−1}) + b (t = 1…T), L = (φ(x_T) − target)² + reg·Ω.

    Parameters
    ----------
    T : int
        Number of time steps, 1 … 1000 (the web API's limit; ``core`` itself
        accepts any T >= 1).
    x0 : float
        Initial state.
    target : float
        Target for φ(x_T).
    activation : {"sigmoid", "tanh"}
        The non-linearity φ.
    reg : float
        Weight (>= 0) of the information-flow regularizer
        Ω = Σ_{k<T} (|w·φ'(x_k)| − 1)² of Pascanu et al. (2013), eq. 9.
    """

    T: int = 50
    x0: float = 0.5
    target: float = 0.7
    activation: str = "sigmoid"
    reg: float = 0.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "T", check_int("T", self.T, lo=limits.T_MIN))
        set_(self, "x0", check_real("x0", self.x0))
        set_(self, "target", check_real("target", self.target))
        set_(self, "activation", check_choice("activation", self.activation, limits.ACTIVATIONS))
        set_(self, "reg", check_real("reg", self.reg, lo=0.0))

    @property
    def activation_code(self) -> int:
        """The activation as the integer the kernels take (0 sigmoid, 1 tanh)."""
        return _ACTIVATION_CODES[self.activation]

    def kernel_args(self) -> tuple[int, float, float, int, float]:
        """(T, x0, target, activation code, reg), in the order every kernel takes them."""
        return (self.T, self.x0, self.target, self.activation_code, self.reg)
