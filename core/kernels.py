"""The compiled heart of cliffscape: forward pass, exact gradients and the descent loop.

Private: the public, validated entry points are in ``surface.py`` and ``descent.py``.
Every kernel is ``@njit(nogil=True, cache=True)`` so that web requests run them on
worker threads in parallel, and every kernel has a slow, obviously correct twin in
``tests/naive.py``.

Gradients are exact. The surface and the plain gradient use forward sensitivities
p_t = ∂x_t/∂w, q_t = ∂x_t/∂b (one sweep, no storage, and independent chains across
a row of the grid that the CPU can overlap); Graves' hidden-state clipping needs the
backward error signal δ_t = ∂E/∂x_t, so it uses back-propagation through time.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SIGMOID = 0
TANH = 1

OPT_GD, OPT_MOMENTUM, OPT_NESTEROV, OPT_ADAM, OPT_GAUSS_NEWTON = range(5)
CLIP_NONE, CLIP_NORM, CLIP_VALUE, CLIP_HIDDEN, CLIP_RANDOM = range(5)
NONFINITE_STOP, NONFINITE_RANDOM_STEP = range(2)
EVENT_NONE, EVENT_RANDOM_STEP, EVENT_REJECTED, EVENT_NONFINITE = range(4)
RUNNING, COMPLETED, STOPPED_NONFINITE = range(3)

# Slots of the descent state vector, so that a run can be computed in chunks
# (the stream computes only as far as its client reads).
S_W, S_B, S_VW, S_VB, S_MW, S_MB, S_SW, S_SB, S_TADAM, S_DAMPING = range(10)
STATE_SIZE = 10

ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8

_TWO_PI = 2.0 * math.pi

# error_model="numpy": a division by zero gives inf or NaN, as IEEE says, instead of
# raising; a run meets NaN on purpose (the cliff) and must record it, not crash.
_kernel = njit(nogil=True, cache=True, error_model="numpy")


@_kernel
def _phi(x, act):
    """φ(x), φ'(x), φ''(x) for the activation ``act``, accurate in both tails.

    One exp of −|x| serves all three, so φ' never suffers the cancellation of
    σ(1 − σ) or 1 − tanh² when |x| is large.
    """
    if act == SIGMOID:
        z = math.exp(-abs(x))
        p = 1.0 / (1.0 + z)  # σ(|x|)
        h = (1.0 - z) * p  # tanh(|x| / 2) = 2σ(|x|) − 1
        d = z * p * p  # σ'(x) = σ'(|x|)
        if x >= 0.0:
            return p, d, -h * d
        return z * p, d, h * d
    z = math.exp(-2.0 * abs(x))
    p = 1.0 / (1.0 + z)
    t = (1.0 - z) * p  # tanh(|x|)
    d = 4.0 * z * p * p  # 1 − tanh²
    s = t if x >= 0.0 else -t
    return s, d, -2.0 * s * d


@_kernel
def _sign(a):
    if a > 0.0:
        return 1.0
    if a < 0.0:
        return -1.0
    return 0.0


@_kernel
def loss_grad(w, b, T, x0, target, act, reg):
    """L(w, b), ∇L, ∇Ω and the Gauss–Newton matrix G, by forward sensitivities.

    Parameters
    ----------
    w, b : float
        The parameters.
    T, x0, target, act, reg
        The model (see ``Model.kernel_args``).

    Returns
    -------
    (L, gw, gb, ow, ob, gww, gwb, gbb) : tuple of float
        The loss, its gradient, the gradient of Ω alone (unweighted), and
        G = 2·Σ J_iᵀ J_i over the residuals r_0 = φ(x_T) − target and
        r_{k+1} = √reg·(|w·φ'(x_k)| − 1).
    """
    x = x0
    p = 0.0  # ∂x_t/∂w
    q = 0.0  # ∂x_t/∂b
    omega = 0.0
    ow = 0.0
    ob = 0.0
    hww = 0.0
    hwb = 0.0
    hbb = 0.0
    for _ in range(T):
        s, d, dd = _phi(x, act)
        if reg > 0.0:
            a = w * d
            sg = _sign(a)
            e = abs(a) - 1.0
            omega += e * e
            # ∇|w·φ'(x_k)| = sign·(φ' + w·φ''·p_k, w·φ''·q_k)
            jw = sg * (d + w * dd * p)
            jb = sg * (w * dd * q)
            ow += 2.0 * e * jw
            ob += 2.0 * e * jb
            hww += jw * jw
            hwb += jw * jb
            hbb += jb * jb
        wd = w * d
        p = s + wd * p
        q = 1.0 + wd * q
        x = w * s + b
    s, d, _ = _phi(x, act)
    r = s - target
    jw = d * p
    jb = d * q
    L = r * r
    gw = 2.0 * r * jw
    gb = 2.0 * r * jb
    gww = 2.0 * jw * jw
    gwb = 2.0 * jw * jb
    gbb = 2.0 * jb * jb
    if reg > 0.0:
        L += reg * omega
        gw += reg * ow
        gb += reg * ob
        gww += 2.0 * reg * hww
        gwb += 2.0 * reg * hwb
        gbb += 2.0 * reg * hbb
    return L, gw, gb, ow, ob, gww, gwb, gbb


@_kernel
def hidden_clipped_error_grad(w, b, T, x0, target, act, v, xs):
    """∇E with Graves' hidden-state clipping: δ_t = ∂E/∂x_t clipped to [−v, v] for t = T…1.

    ``xs`` is scratch of length T + 1 for the forward states. Returns
    (gw, gb, cut): the gradient of E obtained from the clipped error signal, and
    whether any δ_t was cut.
    """
    xs[0] = x0
    for t in range(T):
        s, _, _ = _phi(xs[t], act)
        xs[t + 1] = w * s + b
    s, d, _ = _phi(xs[T], act)
    delta = 2.0 * (s - target) * d
    gw = 0.0
    gb = 0.0
    cut = False
    for t in range(T, 0, -1):
        if delta > v:
            delta = v
            cut = True
        elif delta < -v:
            delta = -v
            cut = True
        s, d, _ = _phi(xs[t - 1], act)
        gw += delta * s
        gb += delta
        delta = delta * w * d
    return gw, gb, cut


@_kernel
def surface_rows(w, b, row0, row1, T, x0, target, act, reg, loss, grad_w, grad_b):
    """Fill rows ``row0 … row1−1`` (indexed by b) of the loss and gradient grids.

    A row is swept time step by time step across all its columns, so the chains
    of the row's points are independent and overlap in the CPU; the scratch is
    allocated once per call, not per row.
    """
    n = w.shape[0]
    x = np.empty(n)
    p = np.empty(n)
    q = np.empty(n)
    om = np.empty(n)
    ow = np.empty(n)
    ob = np.empty(n)
    for i in range(row0, row1):
        bi = b[i]
        for j in range(n):
            x[j] = x0
            p[j] = 0.0
            q[j] = 0.0
            om[j] = 0.0
            ow[j] = 0.0
            ob[j] = 0.0
        for _ in range(T):
            for j in range(n):
                wj = w[j]
                s, d, dd = _phi(x[j], act)
                if reg > 0.0:
                    a = wj * d
                    sg = _sign(a)
                    e = abs(a) - 1.0
                    om[j] += e * e
                    ow[j] += 2.0 * e * sg * (d + wj * dd * p[j])
                    ob[j] += 2.0 * e * sg * (wj * dd * q[j])
                wd = wj * d
                p[j] = s + wd * p[j]
                q[j] = 1.0 + wd * q[j]
                x[j] = wj * s + bi
        for j in range(n):
            s, d, _ = _phi(x[j], act)
            r = s - target
            lj = r * r
            gw = 2.0 * r * d * p[j]
            gb = 2.0 * r * d * q[j]
            if reg > 0.0:
                lj += reg * om[j]
                gw += reg * ow[j]
                gb += reg * ob[j]
            loss[i, j] = lj
            grad_w[i, j] = gw
            grad_b[i, j] = gb


@_kernel
def _next_u64(rng):
    """SplitMix64 (Steele, Lea & Flood 2014): small, fast, and the same everywhere."""
    rng[0] += np.uint64(0x9E3779B97F4A7C15)
    z = rng[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@_kernel
def random_angle(rng):
    """φ uniform on [0, 2π), from the top 53 bits of the next SplitMix64 output."""
    u = np.float64(_next_u64(rng) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return _TWO_PI * u


@_kernel
def _finite(a, b):
    return math.isfinite(a) and math.isfinite(b)


@_kernel
def _used_gradient(w, b, T, x0, target, act, reg, clip, v, gw, gb, ow, ob, xs):
    """The gradient the optimizer uses at (w, b), given the raw one there: (g̃w, g̃b, clipped).

    ``random`` is not handled here: it replaces the step, not the gradient.
    """
    if clip == CLIP_NORM:
        norm = math.hypot(gw, gb)
        if norm > v:
            scale = v / norm
            return gw * scale, gb * scale, True
        return gw, gb, False
    if clip == CLIP_VALUE:
        cw = min(max(gw, -v), v)
        cb = min(max(gb, -v), v)
        return cw, cb, (cw != gw) or (cb != gb)
    if clip == CLIP_HIDDEN:
        ew, eb, cut = hidden_clipped_error_grad(w, b, T, x0, target, act, v, xs)
        if reg > 0.0:
            ew += reg * ow
            eb += reg * ob
        return ew, eb, cut
    return gw, gb, False


@_kernel
def descend(T, x0, target, act, reg, opt, lr, clip, v, mu, on_nonfinite, steps, k0, k1,
            st, rng, xs, out_w, out_b, out_loss, out_gw, out_gb, out_clipped, out_event):
    """Record points k0 … k1−1 of a run (k1 ≤ steps + 1), advancing the state ``st``.

    ``st`` holds θ and the optimizer's state (slots S_*), ``rng`` the SplitMix64
    state, ``xs`` scratch of length T + 1. Point k is written at index k − k0.
    Returns (number of points written, RUNNING | COMPLETED | STOPPED_NONFINITE).
    """
    for k in range(k0, k1):
        i = k - k0
        w = st[S_W]
        b = st[S_B]
        L, gw, gb, ow, ob, gww, gwb, gbb = loss_grad(w, b, T, x0, target, act, reg)
        out_w[i] = w
        out_b[i] = b
        out_loss[i] = L
        out_gw[i] = gw
        out_gb[i] = gb
        out_clipped[i] = False
        out_event[i] = EVENT_NONE

        nonfinite = not (_finite(w, b) and _finite(gw, gb) and math.isfinite(L))
        if nonfinite and on_nonfinite == NONFINITE_STOP:
            out_event[i] = EVENT_NONFINITE
            return i + 1, STOPPED_NONFINITE
        if k == steps:
            return i + 1, COMPLETED
        if nonfinite:
            phi = random_angle(rng)
            st[S_W] = w + v * math.cos(phi)
            st[S_B] = b + v * math.sin(phi)
            out_event[i] = EVENT_RANDOM_STEP
            continue

        # The gradient the optimizer sees: at θ, or at Nesterov's look-ahead point.
        if opt == OPT_NESTEROV:
            aw = w + mu * st[S_VW]
            ab = b + mu * st[S_VB]
            _, uw, ub, uow, uob, _, _, _ = loss_grad(aw, ab, T, x0, target, act, reg)
            if not _finite(uw, ub):
                if on_nonfinite == NONFINITE_STOP:
                    out_event[i] = EVENT_NONFINITE
                    return i + 1, STOPPED_NONFINITE
                phi = random_angle(rng)
                st[S_W] = w + v * math.cos(phi)
                st[S_B] = b + v * math.sin(phi)
                out_event[i] = EVENT_RANDOM_STEP
                continue
        else:
            aw, ab, uw, ub, uow, uob = w, b, gw, gb, ow, ob

        if clip == CLIP_RANDOM:
            if math.hypot(uw, ub) > v:
                phi = random_angle(rng)
                st[S_W] = w + v * math.cos(phi)
                st[S_B] = b + v * math.sin(phi)
                out_clipped[i] = True
                out_event[i] = EVENT_RANDOM_STEP
                continue
            cw, cb, clipped = uw, ub, False
        else:
            cw, cb, clipped = _used_gradient(aw, ab, T, x0, target, act, reg, clip, v,
                                             uw, ub, uow, uob, xs)
        out_clipped[i] = clipped

        if opt == OPT_GD:
            st[S_W] = w - lr * cw
            st[S_B] = b - lr * cb
        elif opt == OPT_MOMENTUM or opt == OPT_NESTEROV:
            st[S_VW] = mu * st[S_VW] - lr * cw
            st[S_VB] = mu * st[S_VB] - lr * cb
            st[S_W] = w + st[S_VW]
            st[S_B] = b + st[S_VB]
        elif opt == OPT_ADAM:
            st[S_TADAM] += 1.0
            t = st[S_TADAM]
            st[S_MW] = ADAM_BETA1 * st[S_MW] + (1.0 - ADAM_BETA1) * cw
            st[S_MB] = ADAM_BETA1 * st[S_MB] + (1.0 - ADAM_BETA1) * cb
            st[S_SW] = ADAM_BETA2 * st[S_SW] + (1.0 - ADAM_BETA2) * cw * cw
            st[S_SB] = ADAM_BETA2 * st[S_SB] + (1.0 - ADAM_BETA2) * cb * cb
            c1 = 1.0 - ADAM_BETA1**t
            c2 = 1.0 - ADAM_BETA2**t
            st[S_W] = w - lr * (st[S_MW] / c1) / (math.sqrt(st[S_SW] / c2) + ADAM_EPS)
            st[S_B] = b - lr * (st[S_MB] / c1) / (math.sqrt(st[S_SB] / c2) + ADAM_EPS)
        else:  # damped Gauss–Newton with the Levenberg–Marquardt rule
            lam = st[S_DAMPING]
            aa = gww + lam
            cc = gbb + lam
            det = aa * cc - gwb * gwb
            dw = -lr * (cc * cw - gwb * cb) / det
            db = -lr * (aa * cb - gwb * cw) / det
            L_new = loss_grad(w + dw, b + db, T, x0, target, act, reg)[0]
            model_change = cw * dw + cb * db + 0.5 * (gww * dw * dw + 2.0 * gwb * dw * db
                                                      + gbb * db * db)
            rho = (L_new - L) / model_change
            if rho < 0.25:
                st[S_DAMPING] = 1.5 * lam
            elif rho > 0.75:
                st[S_DAMPING] = (2.0 / 3.0) * lam
            if L_new < L:
                st[S_W] = w + dw
                st[S_B] = b + db
            else:
                out_event[i] = EVENT_REJECTED
    return k1 - k0, RUNNING
