"""Slow, obviously correct twins of the kernels, written from SPEC.md alone.

Plain Python floats, the textbook formulas (σ(1 − σ), 1 − tanh²), back-propagation
through time for every gradient (the kernels use forward sensitivities), and a
step-by-step transcription of every clipping rule and optimizer of SPEC §2.
"""

from __future__ import annotations

import cmath
import math

import mpmath

MASK64 = (1 << 64) - 1


# --- the model ---------------------------------------------------------------------------

def phi(x: float, activation: str) -> tuple[float, float, float]:
    """φ, φ', φ'' by the textbook formulas: σ(1 − σ), sech²."""
    if activation == "sigmoid":
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        d = s * (1.0 - s)
        return s, d, d * (1.0 - 2.0 * s)
    t = math.tanh(x)
    d = 1.0 / math.cosh(x) ** 2 if abs(x) < 350 else 0.0  # sech², not 1 − t², which cancels
    return t, d, -2.0 * t * d


def forward(model, w: float, b: float) -> list[float]:
    xs = [model.x0]
    for _ in range(model.T):
        xs.append(w * phi(xs[-1], model.activation)[0] + b)
    return xs


def loss(model, w: float, b: float) -> float:
    xs = forward(model, w, b)
    E = (phi(xs[-1], model.activation)[0] - model.target) ** 2
    omega = sum((abs(w * phi(x, model.activation)[1]) - 1.0) ** 2 for x in xs[:-1])
    return E + model.reg * omega if model.reg > 0 else E


def amplification(model, w: float, b: float) -> float:
    """How much the forward pass can magnify a rounding error: max_k ∏_{t≥k} |w·φ'(x_t)|.

    Where this is 1e10, any float64 computation of x_T, hence of L, is uncertain in
    its 6th digit: the problem, not the program, is ill-conditioned there.
    """
    worst = running = 1.0
    for x in reversed(forward(model, w, b)[:-1]):
        running *= abs(w * phi(x, model.activation)[1])
        worst = max(worst, running)
    return worst


def sign(a: float) -> float:
    return (a > 0) - (a < 0)


def bptt(model, w: float, b: float, hidden_threshold: float | None = None):
    """(L, gw, gb, cut) by back-propagation through time.

    With ``hidden_threshold`` = v, Graves' rule: δ_t = ∂E/∂x_t is clipped to [−v, v]
    at every t = T … 1 before it is used; Ω's part is added unclipped.
    """
    act = model.activation
    xs = forward(model, w, b)
    T = model.T
    s_T, d_T, _ = phi(xs[T], act)
    r = s_T - model.target
    # E part, by its own error signal (clipped or not).
    delta = 2.0 * r * d_T
    gw = gb = 0.0
    cut = False
    for t in range(T, 0, -1):
        if hidden_threshold is not None and abs(delta) > hidden_threshold:
            delta = math.copysign(hidden_threshold, delta)
            cut = True
        s, d, _ = phi(xs[t - 1], act)
        gw += delta * s
        gb += delta
        delta = delta * w * d
    L = r * r
    if model.reg > 0:
        # Ω = Σ_k (|a_k| − 1)², a_k = w·φ'(x_k): its adjoint enters every x_k, k < T,
        # and w directly.
        adj = 0.0  # ∂Ω/∂x_t, accumulated backwards
        ow = ob = 0.0
        for t in range(T, 0, -1):
            # x_t = w·φ(x_{t−1}) + b
            s, d, dd = phi(xs[t - 1], act)
            ow += adj * s
            ob += adj
            a = w * d
            e = abs(a) - 1.0
            # direct terms of (|a_{t−1}| − 1)²
            ow += 2.0 * e * sign(a) * d
            adj = adj * w * d + 2.0 * e * sign(a) * w * dd
            L += model.reg * e * e
        gw += model.reg * ow
        gb += model.reg * ob
    return L, gw, gb, cut


def gauss_newton_matrix(model, w: float, b: float) -> tuple[float, float, float]:
    """G = 2·Σ J_iᵀJ_i, each J_i = ∇r_i by complex-step differentiation of r_i alone."""
    h = 1e-30

    def residuals(wc: complex, bc: complex) -> list[complex]:
        def sig(z):
            return 1 / (1 + cmath.exp(-z))

        def f(z):
            return sig(z) if model.activation == "sigmoid" else cmath.tanh(z)

        def fp(z):
            if model.activation == "sigmoid":
                return sig(z) * (1 - sig(z))
            return 1 / cmath.cosh(z) ** 2

        x = complex(model.x0)
        rs = []
        for _ in range(model.T):
            a = wc * fp(x)
            rs.append(math.sqrt(model.reg) * ((a if a.real >= 0 else -a) - 1))
            x = wc * f(x) + bc
        rs.insert(0, f(x) - model.target)
        return rs

    jw = [r.imag / h for r in residuals(complex(w, h), complex(b, 0))]
    jb = [r.imag / h for r in residuals(complex(w, 0), complex(b, h))]
    gww = 2 * sum(a * a for a in jw)
    gwb = 2 * sum(a * c for a, c in zip(jw, jb, strict=True))
    gbb = 2 * sum(c * c for c in jb)
    return gww, gwb, gbb


# --- a high-precision reference -----------------------------------------------------------

def precise_loss_and_grad(model, w: float, b: float, dps: int = 60):
    """L and ∇L at ``dps`` decimal digits: mpmath arithmetic and mpmath's numerical diff."""
    with mpmath.workdps(dps):
        def f(x):
            return 1 / (1 + mpmath.exp(-x)) if model.activation == "sigmoid" else mpmath.tanh(x)

        def fp(x):
            return f(x) * (1 - f(x)) if model.activation == "sigmoid" else 1 - mpmath.tanh(x) ** 2

        def L(wm, bm):
            x = mpmath.mpf(model.x0)
            omega = mpmath.mpf(0)
            for _ in range(model.T):
                omega += (abs(wm * fp(x)) - 1) ** 2
                x = wm * f(x) + bm
            E = (f(x) - mpmath.mpf(model.target)) ** 2
            return E + mpmath.mpf(model.reg) * omega

        wm, bm = mpmath.mpf(w), mpmath.mpf(b)
        return (float(L(wm, bm)), float(mpmath.diff(L, (wm, bm), (1, 0))),
                float(mpmath.diff(L, (wm, bm), (0, 1))))


# --- descent ------------------------------------------------------------------------------

class SplitMix64:
    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def unit_vector(self) -> tuple[float, float]:
        angle = 2 * math.pi * ((self.next() >> 11) / 2.0**53)
        return math.cos(angle), math.sin(angle)


def clip_gradient(model, clip, v, w, b, gw, gb):
    """(g̃w, g̃b, clipped) for the rules that change the gradient (SPEC §2)."""
    if clip == "norm":
        n = math.hypot(gw, gb)
        return (gw * v / n, gb * v / n, True) if n > v else (gw, gb, False)
    if clip == "value":
        cw, cb = max(-v, min(v, gw)), max(-v, min(v, gb))
        return cw, cb, (cw, cb) != (gw, gb)
    if clip == "hidden":
        _, cw, cb, cut = bptt(model, w, b, hidden_threshold=v)
        return cw, cb, cut
    return gw, gb, False


def trajectory(model, start, optimizer="gd", lr=0.1, steps=100, clip="none", threshold=1.0,
               on_nonfinite="stop", seed=0, momentum=0.9, damping=1.0):
    """SPEC §2, one rule at a time, with naive BPTT gradients. Returns a dict of lists."""
    rng = SplitMix64(seed)
    w, b = start
    v = threshold
    mu = momentum
    vel = [0.0, 0.0]
    m1 = [0.0, 0.0]
    m2 = [0.0, 0.0]
    t_adam = 0
    lam = damping
    out = {k: [] for k in ("w", "b", "loss", "grad_w", "grad_b", "clipped", "event")}
    stopped = "completed"

    def finite(*xs):
        return all(math.isfinite(x) for x in xs)

    def grad(wp, bp):
        try:
            L_, gw_, gb_, _ = bptt(model, wp, bp)
        except OverflowError:  # pragma: no cover - the naive twin is used away from overflow
            return math.inf, math.inf, math.inf
        return L_, gw_, gb_

    for k in range(steps + 1):
        L, gw, gb = grad(w, b)
        rec = {"w": w, "b": b, "loss": L, "grad_w": gw, "grad_b": gb, "clipped": False,
               "event": ""}
        for key, val in rec.items():
            out[key].append(val)
        ok = finite(w, b, L, gw, gb)
        if not ok and on_nonfinite == "stop":
            out["event"][-1] = "nonfinite"
            stopped = "nonfinite"
            break
        if k == steps:
            break

        if not ok:
            uw, ub = rng.unit_vector()
            w, b = w + v * uw, b + v * ub
            out["event"][-1] = "random_step"
            continue
        if optimizer == "nesterov":
            aw, ab = w + mu * vel[0], b + mu * vel[1]
            _, uw, ub = grad(aw, ab)
        else:
            aw, ab, uw, ub = w, b, gw, gb
        if clip == "random":
            if math.hypot(uw, ub) > v:
                uw, ub = rng.unit_vector()
                w, b = w + v * uw, b + v * ub
                out["clipped"][-1] = True
                out["event"][-1] = "random_step"
                continue
            cw, cb, clipped = uw, ub, False
        else:
            cw, cb, clipped = clip_gradient(model, clip, v, aw, ab, uw, ub)
        out["clipped"][-1] = clipped

        if optimizer == "gd":
            w, b = w - lr * cw, b - lr * cb
        elif optimizer in ("momentum", "nesterov"):
            vel = [mu * vel[0] - lr * cw, mu * vel[1] - lr * cb]
            w, b = w + vel[0], b + vel[1]
        elif optimizer == "adam":
            t_adam += 1
            b1, b2, eps = 0.9, 0.999, 1e-8
            m1 = [b1 * m1[0] + (1 - b1) * cw, b1 * m1[1] + (1 - b1) * cb]
            m2 = [b2 * m2[0] + (1 - b2) * cw**2, b2 * m2[1] + (1 - b2) * cb**2]
            w -= lr * (m1[0] / (1 - b1**t_adam)) / (math.sqrt(m2[0] / (1 - b2**t_adam)) + eps)
            b -= lr * (m1[1] / (1 - b1**t_adam)) / (math.sqrt(m2[1] / (1 - b2**t_adam)) + eps)
        elif optimizer == "gauss_newton":
            gww, gwb, gbb = gauss_newton_matrix(model, w, b)
            # Δ = ε·(−(G + λI)⁻¹ g̃), by Cramer's rule
            a, c = gww + lam, gbb + lam
            det = a * c - gwb * gwb
            dw = -lr * (c * cw - gwb * cb) / det
            db = -lr * (a * cb - gwb * cw) / det
            L_new = loss(model, w + dw, b + db)
            q = cw * dw + cb * db + 0.5 * (gww * dw * dw + 2 * gwb * dw * db + gbb * db * db)
            rho = (L_new - L) / q
            if rho < 0.25:
                lam *= 1.5
            elif rho > 0.75:
                lam *= 2 / 3
            if L_new < L:
                w, b = w + dw, b + db
            else:
                out["event"][-1] = "rejected"
        else:
            raise ValueError(optimizer)
    out["stopped"] = stopped
    return out
