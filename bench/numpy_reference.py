"""The NumPy baseline for the surface benchmark: a vectorized forward pass and BPTT over a grid.

Written to be a fair opponent, not a straw man: every operation is a whole-array
ufunc with ``out=`` (no temporaries in the time loop), the forward pass stores φ and
φ' once so the backward pass needs no exp, and the grid is processed in blocks of
rows whose working set stays in the L2 cache, which also bounds the memory of the
stored states (T + 1 steps × block, not × the whole grid).
"""

from __future__ import annotations

import numpy as np

SIGMOID = 0
TANH = 1

# Points per block: large enough that NumPy's per-call overhead (~1 µs) is small next
# to the work of one ufunc call, small enough that a dozen such arrays fit in L2.
BLOCK_POINTS = 16384


def _phi(x, act, s, d, dd, z, tmp, want_dd):
    """φ(x), φ'(x) (and φ''(x) when ``want_dd``) into s, d, dd: the same formulas as core."""
    np.abs(x, out=z)
    if act == SIGMOID:
        np.negative(z, out=z)
        np.exp(z, out=z)  # z = exp(−|x|)
        np.add(z, 1.0, out=tmp)
        np.reciprocal(tmp, out=tmp)  # p = σ(|x|)
        np.multiply(z, tmp, out=d)
        np.multiply(d, tmp, out=d)  # σ' = z·p²
        neg = x < 0.0
        np.multiply(z, tmp, out=s, where=neg)  # σ(x) = z·p for x < 0
        np.copyto(s, tmp, where=~neg)  # σ(x) = p for x ≥ 0
        if want_dd:
            np.subtract(1.0, z, out=z)
            np.multiply(z, tmp, out=z)  # h = tanh(|x|/2)
            np.multiply(z, d, out=dd)
            np.negative(dd, out=dd, where=~neg)  # φ'' = −h·σ' for x ≥ 0, h·σ' for x < 0
        return
    np.multiply(z, -2.0, out=z)
    np.exp(z, out=z)  # z = exp(−2|x|)
    np.add(z, 1.0, out=tmp)
    np.reciprocal(tmp, out=tmp)  # p
    np.multiply(z, tmp, out=d)
    np.multiply(d, tmp, out=d)
    np.multiply(d, 4.0, out=d)  # 1 − tanh² = 4·z·p²
    np.subtract(1.0, z, out=z)
    np.multiply(z, tmp, out=s)  # tanh(|x|)
    np.negative(s, out=s, where=x < 0.0)
    if want_dd:
        np.multiply(s, d, out=dd)
        np.multiply(dd, -2.0, out=dd)  # φ'' = −2·tanh·(1 − tanh²)


def _block(w, b, T, x0, target, act, reg, loss, grad_w, grad_b):
    """L and ∇L at the points (w[j], b[j]) of one block (1-D arrays), by forward pass + BPTT."""
    m = w.shape[0]
    S = np.empty((T + 1, m))  # φ(x_t)
    D = np.empty((T + 1, m))  # φ'(x_t)
    DD = np.empty((T if reg > 0.0 else 0, m))  # φ''(x_t), for ∂Ω/∂x_t (reg > 0 only)
    x = np.empty(m)
    z = np.empty(m)
    tmp = np.empty(m)
    x.fill(x0)
    for t in range(T + 1):
        want_dd = reg > 0.0 and t < T
        _phi(x, act, S[t], D[t], DD[t] if want_dd else None, z, tmp, want_dd)
        if t < T:
            np.multiply(w, S[t], out=x)
            np.add(x, b, out=x)

    # L = (φ(x_T) − target)² + reg·Σ_{k<T} (|w·φ'(x_k)| − 1)²
    r = np.subtract(S[T], target)
    np.multiply(r, r, out=loss)
    delta = np.multiply(r, 2.0)
    np.multiply(delta, D[T], out=delta)  # δ_T = ∂L/∂x_T
    grad_w.fill(0.0)
    grad_b.fill(0.0)
    if reg > 0.0:
        a = np.empty(m)
        e = np.empty(m)
        sg = np.empty(m)
        om = np.zeros(m)
    for t in range(T, 0, -1):
        # x_t = w·φ(x_{t−1}) + b: the parameters' share of δ_t, then δ_{t−1}.
        np.multiply(delta, S[t - 1], out=tmp)
        np.add(grad_w, tmp, out=grad_w)
        np.add(grad_b, delta, out=grad_b)
        np.multiply(delta, w, out=delta)
        np.multiply(delta, D[t - 1], out=delta)
        if reg > 0.0:
            # Ω's term k = t − 1: e = |w·φ'| − 1, ∂/∂w = 2e·sign·φ', ∂/∂x = 2e·sign·w·φ''.
            np.multiply(w, D[t - 1], out=a)
            np.sign(a, out=sg)
            np.abs(a, out=e)
            np.subtract(e, 1.0, out=e)
            np.multiply(e, e, out=tmp)
            np.add(om, tmp, out=om)
            np.multiply(e, sg, out=e)
            np.multiply(e, 2.0 * reg, out=e)  # reg·2e·sign
            np.multiply(e, D[t - 1], out=tmp)
            np.add(grad_w, tmp, out=grad_w)
            np.multiply(e, w, out=tmp)
            np.multiply(tmp, DD[t - 1], out=tmp)
            np.add(delta, tmp, out=delta)
    if reg > 0.0:
        np.multiply(om, reg, out=om)
        np.add(loss, om, out=loss)


def surface_numpy(w_axis, b_axis, T, x0, target, act=SIGMOID, reg=0.0, block_points=BLOCK_POINTS):
    """L, ∂L/∂w, ∂L/∂b on the grid of ``b_axis`` × ``w_axis`` (row = b, column = w).

    Returns three float64 arrays of shape (len(b_axis), len(w_axis)), like ``core.surface``.
    """
    w_axis = np.asarray(w_axis, dtype=np.float64)
    b_axis = np.asarray(b_axis, dtype=np.float64)
    nb, nw = b_axis.shape[0], w_axis.shape[0]
    loss = np.empty((nb, nw))
    grad_w = np.empty((nb, nw))
    grad_b = np.empty((nb, nw))
    rows = max(1, block_points // nw)
    for r0 in range(0, nb, rows):
        r1 = min(nb, r0 + rows)
        w = np.broadcast_to(w_axis, (r1 - r0, nw)).ravel()
        b = np.repeat(b_axis[r0:r1], nw)
        _block(w, b, T, x0, target, act, reg,
               loss[r0:r1].reshape(-1), grad_w[r0:r1].reshape(-1), grad_b[r0:r1].reshape(-1))
    return loss, grad_w, grad_b
