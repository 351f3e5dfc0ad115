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
from fractions import Fraction

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

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


# exp(y) for y <= 0, written out rather than called from libm, for two reasons: a
# loop over it vectorizes (LLVM cannot vectorize a call to libm's exp, and numba finds
# no SVML here), which makes the surface several times faster; and it is the same on
# every machine, so a run is bit for bit the same whatever the libm. Every kernel goes
# through it, so the surface and loss_grad agree to the last bit. Faithfully rounded:
# measured error at most 0.81 ulp, 0.83 ulp of 2^−1074 for subnormal results (libm's:
# 0.5 ulp), different from libm's result for 4% of arguments; NaN gives NaN, −inf 0.
# y = k·ln2 + r, |r| <= ln2/2; e^r = (1 + r) + r²·P(r), P of degree 11, with 1 + r split
# exactly (Fast2Sum) and the sum arranged for a short dependency chain: the trajectory
# waits for every exp in turn, the surface runs many side by side.
_EXP_SHIFT = 6755399441055744.0  # 1.5·2^52: k + _EXP_SHIFT holds k in its low bits
_INV_LN2 = 1.4426950408889634
_LN2_HI = 0.6931471803691238  # 32 significant bits: k·_LN2_HI is exact for |k| < 2^21
_LN2_LO = 1.9082149292705877e-10
_TWO_M600 = 2.0**-600
(_E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12,
 _E13) = (1.0 / math.factorial(i) for i in range(2, 14))


def _fma(a, b, c):
    """a·b + c rounded once (IEEE fusedMultiplyAdd); compiled to llvm.fma below."""
    if math.isfinite(a) and math.isfinite(b) and math.isfinite(c):
        return float(Fraction(a) * Fraction(b) + Fraction(c))
    return a * b + c


def _pow2(kd, bias):
    """2^(k + bias) for kd = k + _EXP_SHIFT, k + bias a normal exponent; integer ops in JIT."""
    if math.isnan(kd):
        return 1.0  # exp's result is NaN anyway
    return math.ldexp(1.0, int(kd - _EXP_SHIFT) + bias)


@intrinsic
def _fma_llvm(typingctx, a, b, c):
    def codegen(context, builder, signature, args):
        f64 = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [f64], ir.FunctionType(f64, [f64] * 3))
        return builder.call(fn, args)
    return types.float64(types.float64, types.float64, types.float64), codegen


@intrinsic
def _pow2_bits(typingctx, kd, bias):
    def codegen(context, builder, signature, args):
        # The low bits of kd hold k in two's complement; (k + bias + 1023) << 52 is 2^(k + bias).
        i64 = ir.IntType(64)
        e = builder.add(builder.bitcast(args[0], i64), builder.add(args[1], ir.Constant(i64, 1023)))
        return builder.bitcast(builder.shl(e, ir.Constant(i64, 52)), ir.DoubleType())
    return types.float64(types.float64, types.int64), codegen


@overload(_fma, jit_options={"nogil": True})
def _fma_jit(a, b, c):
    return lambda a, b, c: _fma_llvm(a, b, c)


@overload(_pow2, jit_options={"nogil": True})
def _pow2_jit(kd, bias):
    return lambda kd, bias: _pow2_bits(kd, bias)


@_kernel
def _exp_neg(y):
    """exp(y) for y <= 0 or NaN, without branches or calls (see above)."""
    y = -1000.0 if y < -1000.0 else y  # exp(−1000) = 0; keeps k in range; NaN stays NaN
    kf = float(np.rint(y * _INV_LN2))  # float(): a Python float also without the JIT
    kd = kf + _EXP_SHIFT  # exact
    r = _fma(kf, -_LN2_HI, y) - kf * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    b0 = _fma(r2, _fma(r, _E5, _E4), _fma(r, _E3, _E2))
    b1 = _fma(r2, _fma(r, _E9, _E8), _fma(r, _E7, _E6))
    b2 = _fma(r2, _fma(r, _E13, _E12), _fma(r, _E11, _E10))
    s = 1.0 + r
    t = (1.0 - s) + r  # 1 + r = s + t exactly
    # e^r = s + (t + r²·b0 + r⁶·(b1 + r⁴·b2))
    e = s + _fma(r2 * r4, _fma(r4, b2, b1), _fma(r2, b0, t))
    # e·2^k is exact unless subnormal; then e·2^(k+600) is, and only the factor 2^−600 rounds.
    if kf > -1021.0:
        return e * _pow2(kd, 0)
    return (e * _pow2(kd, 600)) * _TWO_M600


@_kernel
def _sigmoid(x):
    """σ(x), σ'(x), σ''(x), accurate in both tails, branch-free (see ``_phi``)."""
    z = _exp_neg(-abs(x))
    den = 1.0 + z
    p = 1.0 / den  # σ(|x|)
    h = (1.0 - z) * p  # tanh(|x| / 2) = 2σ(|x|) − 1
    d = z * p * p  # σ'(x) = σ'(|x|)
    pos = x >= 0.0
    # σ(x) = 1/(1 + z) or z/(1 + z): one division, the shortest chain from x to σ(x)
    # (the recurrence waits for it at every time step) and one rounding.
    s = (1.0 if pos else z) / den
    dd = -h * d if pos else h * d
    return s, d, dd


@_kernel
def _tanh(x):
    """tanh(x), tanh'(x), tanh''(x), accurate in both tails, branch-free (see ``_phi``)."""
    z = _exp_neg(-2.0 * abs(x))
    den = 1.0 + z
    p = 1.0 / den
    t = (1.0 - z) / den  # tanh(|x|), as σ above: one division on the chain, one rounding
    d = 4.0 * z * p * p  # 1 − tanh²
    s = t if x >= 0.0 else -t
    return s, d, -2.0 * s * d


@_kernel
def _phi(x, act):
    """φ(x), φ'(x), φ''(x) for the activation ``act``, accurate in both tails.

    One exp of −|x| serves all three, so φ' never suffers the cancellation of
    σ(1 − σ) or 1 − tanh² when |x| is large.
    """
    if act == SIGMOID:
        return _sigmoid(x)
    return _tanh(x)


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
def _sweep_row(w, b, T, x0, act, x, p, q):
    """x_T, p_T = ∂x_T/∂w, q_T = ∂x_T/∂b for the points (w[j], b) of one row (reg = 0).

    The loop over the row is innermost: its points are independent, so it
    vectorizes and the CPU overlaps their chains. Same arithmetic as ``loss_grad``.
    """
    n = w.shape[0]
    for j in range(n):
        x[j] = x0
        p[j] = 0.0
        q[j] = 0.0
    # One loop per activation, so that the body has no branch left to vectorize.
    if act == SIGMOID:
        for _ in range(T):
            for j in range(n):
                wj = w[j]
                s, d, _ = _sigmoid(x[j])
                wd = wj * d
                p[j] = s + wd * p[j]
                q[j] = 1.0 + wd * q[j]
                x[j] = wj * s + b
    else:
        for _ in range(T):
            for j in range(n):
                wj = w[j]
                s, d, _ = _tanh(x[j])
                wd = wj * d
                p[j] = s + wd * p[j]
                q[j] = 1.0 + wd * q[j]
                x[j] = wj * s + b


@_kernel
def _omega_step(wj, s, d, dd, pj, qj):
    """Ω's term at one point and time step, and its gradient (as ``loss_grad``), branch-free."""
    a = wj * d
    sg = 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)  # _sign(a)
    e = abs(a) - 1.0
    jw = sg * (d + wj * dd * pj)
    jb = sg * (wj * dd * qj)
    return e * e, 2.0 * e * jw, 2.0 * e * jb


@_kernel
def _sweep_row_reg(w, b, T, x0, act, x, p, q, om, ow, ob):
    """``_sweep_row`` plus Ω and its gradient ∂Ω/∂w, ∂Ω/∂b, for reg > 0."""
    n = w.shape[0]
    for j in range(n):
        x[j] = x0
        p[j] = 0.0
        q[j] = 0.0
        om[j] = 0.0
        ow[j] = 0.0
        ob[j] = 0.0
    if act == SIGMOID:
        for _ in range(T):
            for j in range(n):
                wj = w[j]
                s, d, dd = _sigmoid(x[j])
                o, gw, gb = _omega_step(wj, s, d, dd, p[j], q[j])
                om[j] += o
                ow[j] += gw
                ob[j] += gb
                wd = wj * d
                p[j] = s + wd * p[j]
                q[j] = 1.0 + wd * q[j]
                x[j] = wj * s + b
    else:
        for _ in range(T):
            for j in range(n):
                wj = w[j]
                s, d, dd = _tanh(x[j])
                o, gw, gb = _omega_step(wj, s, d, dd, p[j], q[j])
                om[j] += o
                ow[j] += gw
                ob[j] += gb
                wd = wj * d
                p[j] = s + wd * p[j]
                q[j] = 1.0 + wd * q[j]
                x[j] = wj * s + b


@_kernel
def surface_rows(w, b, row0, row1, T, x0, target, act, reg, loss, grad_w, grad_b):
    """Fill rows ``row0 … row1−1`` (indexed by b) of the loss and gradient grids.

    A row is swept time step by time step across all its columns (row → t →
    column), so the row's independent chains run side by side in SIMD lanes and in
    the CPU's pipeline; the scratch is allocated once per call, not per row. The
    arithmetic is ``loss_grad``'s, operation for operation, so every grid point is
    bit for bit what ``loss_grad`` gives there. Each call owns its scratch: any
    number of threads may run it at once on disjoint rows.
    """
    n = w.shape[0]
    x = np.empty(n)
    p = np.empty(n)
    q = np.empty(n)
    om = np.zeros(n)
    ow = np.zeros(n)
    ob = np.zeros(n)
    for i in range(row0, row1):
        if reg > 0.0:
            _sweep_row_reg(w, b[i], T, x0, act, x, p, q, om, ow, ob)
        else:
            _sweep_row(w, b[i], T, x0, act, x, p, q)
        for j in range(n):
            s, d, _ = _phi(x[j], act)
            r = s - target
            jw = d * p[j]
            jb = d * q[j]
            lj = r * r
            gw = 2.0 * r * jw
            gb = 2.0 * r * jb
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
