"""The plain-Python baseline for the trajectory benchmark: gradient descent, float by float.

The same maths as ``core.trajectory(optimizer="gd", clip="none")``: forward
sensitivities p_t = ∂x_t/∂w, q_t = ∂x_t/∂b along the recurrence, φ from one exp of
−|x| (``math.exp``, so the last bits can differ from core's own exp), θ ← θ − ε·∇L.
"""

from __future__ import annotations

import math


def _phi(x: float, sigmoid: bool) -> tuple[float, float]:
    """φ(x), φ'(x), accurate in both tails (as core)."""
    if sigmoid:
        z = math.exp(-abs(x))
        p = 1.0 / (1.0 + z)
        return (p if x >= 0.0 else z * p), z * p * p
    z = math.exp(-2.0 * abs(x))
    p = 1.0 / (1.0 + z)
    t = (1.0 - z) * p
    return (t if x >= 0.0 else -t), 4.0 * z * p * p


def loss_grad(w: float, b: float, T: int, x0: float, target: float,
              sigmoid: bool) -> tuple[float, float, float]:
    """L(w, b) and ∇L for reg = 0."""
    x, p, q = x0, 0.0, 0.0
    for _ in range(T):
        s, d = _phi(x, sigmoid)
        wd = w * d
        p = s + wd * p
        q = 1.0 + wd * q
        x = w * s + b
    s, d = _phi(x, sigmoid)
    r = s - target
    return r * r, 2.0 * r * (d * p), 2.0 * r * (d * q)


def gd(w: float, b: float, lr: float, steps: int, T: int = 50, x0: float = 0.5,
       target: float = 0.7, sigmoid: bool = True) -> tuple[list[float], list[float], list[float]]:
    """``steps`` steps of gradient descent from (w, b): the points θ_0 … θ_steps and L there."""
    ws, bs, ls = [], [], []
    for k in range(steps + 1):
        L, gw, gb = loss_grad(w, b, T, x0, target, sigmoid)
        ws.append(w)
        bs.append(b)
        ls.append(L)
        if k < steps:
            w -= lr * gw
            b -= lr * gb
    return ws, bs, ls
