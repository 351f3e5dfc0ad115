"""The compiled loss and gradient against naive BPTT, finite differences and 60-digit arithmetic."""

import math
import sys

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import Model, kernels, loss_and_grad
from tests import naive

MODELS = [
    Model(),
    Model(activation="tanh", x0=0.1, target=0.3, T=20),
    Model(reg=0.5, T=30),
    Model(activation="tanh", reg=0.2, T=15, x0=-0.4, target=-0.2),
]
POINTS = [(5.0, -2.0), (5.0, -2.612), (1.3, 0.4), (-3.0, 1.5), (8.5, -6.0), (0.7, -0.3)]


def grad_close(g, ref, rel=1e-6, floor=1e-13):
    """‖g − ref‖ ≤ rel·‖ref‖ + floor: relative agreement of the gradient as a vector."""
    err = math.hypot(g[0] - ref[0], g[1] - ref[1])
    return err <= rel * math.hypot(*ref) + floor


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_phi_matches_textbook_formulas_and_is_accurate_in_the_tails(act):
    for x in np.linspace(-30, 30, 601):
        got = kernels._phi(float(x), kernels.SIGMOID if act == "sigmoid" else kernels.TANH)
        ref = naive.phi(float(x), act)
        assert got[0] == pytest.approx(ref[0], rel=1e-14, abs=1e-300)
        if abs(x) < 15:  # beyond, the textbook σ(1 − σ) and 1 − t² lose digits; ours don't
            assert got[1] == pytest.approx(ref[1], rel=1e-9)
            assert got[2] == pytest.approx(ref[2], rel=1e-7, abs=1e-15)
    # Far in the tails, φ' is still correct to the last digits (no cancellation).
    x = 40.0
    if act == "sigmoid":
        assert kernels._phi(x, 0)[1] == pytest.approx(math.exp(-x), rel=1e-14)
    else:
        assert kernels._phi(x, 1)[1] == pytest.approx(4 * math.exp(-2 * x), rel=1e-14)
    for x in (math.inf, -math.inf):
        s, d, dd = kernels._phi(x, 0 if act == "sigmoid" else 1)
        assert d == 0.0 and dd == 0.0 and abs(s) <= 1.0
    assert all(math.isnan(v) for v in kernels._phi(math.nan, 0 if act == "sigmoid" else 1))


@pytest.mark.parametrize("model", MODELS, ids=str)
@pytest.mark.parametrize("point", POINTS)
def test_loss_and_grad_match_naive_bptt(model, point):
    L, gw, gb = loss_and_grad(model, *point)
    Lr, gwr, gbr, _ = naive.bptt(model, *point)
    assert L == pytest.approx(Lr, rel=1e-12, abs=1e-300)
    assert grad_close((gw, gb), (gwr, gbr), rel=1e-10)


@pytest.mark.parametrize("model", MODELS, ids=str)
@pytest.mark.parametrize("point", POINTS)
def test_gradient_matches_central_differences(model, point):
    w, b = point
    _, gw, gb = loss_and_grad(model, w, b)
    h = 1e-6

    def diff(f):  # five-point stencil: the cliff's curvature defeats the three-point one
        return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)

    fd_w = diff(lambda d: naive.loss(model, w + d, b))
    fd_b = diff(lambda d: naive.loss(model, w, b + d))
    assert grad_close((gw, gb), (fd_w, fd_b), rel=1e-6, floor=1e-8)


@pytest.mark.parametrize("model", MODELS, ids=str)
def test_loss_and_grad_match_60_digit_reference_on_the_cliff(model):
    for w, b in [(5.0, -2.612), (5.0, -2.6123), (4.0, -2.0)]:
        L, gw, gb = loss_and_grad(model, w, b)
        Lr, gwr, gbr = naive.precise_loss_and_grad(model, w, b)
        assert L == pytest.approx(Lr, rel=1e-10)
        assert grad_close((gw, gb), (gwr, gbr), rel=1e-8)


@settings(max_examples=40, deadline=None)
@given(
    w=st.floats(-10, 10), b=st.floats(-10, 10), T=st.integers(1, 80),
    activation=st.sampled_from(["sigmoid", "tanh"]), reg=st.sampled_from([0.0, 0.3]),
    x0=st.floats(-1, 1), target=st.floats(-0.9, 0.9),
)
def test_arbitrary_points_agree_with_high_precision_to_1e_6(w, b, T, activation, reg, x0, target):
    # |w·φ'(x)| has a kink at w = 0, where Ω has no gradient to agree on.
    assume(reg == 0 or abs(w) > 1e-3)
    m = Model(T=T, activation=activation, reg=reg, x0=x0, target=target)
    # The residual φ(x_T) − target is a difference of O(1) numbers: where it
    # vanishes (the valley floor), no float computation has relative accuracy left.
    assume(abs(naive.phi(naive.forward(m, w, b)[-1], activation)[0] - target) > 1e-9)
    # Where the recurrence magnifies rounding by 1e6 or more (|w·φ'| > 1 for many steps),
    # float64 itself cannot promise 6 digits; the cliff at T = 50 is well inside this.
    assume(naive.amplification(m, w, b) < 1e6)
    L, gw, gb = loss_and_grad(m, w, b)
    Lr, gwr, gbr = naive.precise_loss_and_grad(m, w, b, dps=40)
    assert L == pytest.approx(Lr, rel=1e-6, abs=1e-15)
    scale = max(1.0, abs(w)) * T * 1e-14
    assert grad_close((gw, gb), (gwr, gbr), rel=1e-6, floor=scale)


def test_gauss_newton_matrix_matches_complex_step_jacobians():
    for model in MODELS:
        for w, b in POINTS:
            got = kernels.loss_grad(w, b, *model.kernel_args())[5:]
            ref = naive.gauss_newton_matrix(model, w, b)
            scale = max(abs(x) for x in ref) + 1e-300
            assert np.allclose(got, ref, rtol=1e-9, atol=1e-12 * scale), (model, w, b)


def test_gauss_newton_matrix_without_reg_is_outer_product_of_gradient():
    m = Model()
    L, gw, gb, _, _, gww, gwb, gbb = kernels.loss_grad(5.0, -2.5, *m.kernel_args())
    # With one residual r, g = 2 r J and G = 2 J Jᵀ, so G = g gᵀ / (2 L).
    assert gww == pytest.approx(gw * gw / (2 * L), rel=1e-12)
    assert gwb == pytest.approx(gw * gb / (2 * L), rel=1e-12)
    assert gbb == pytest.approx(gb * gb / (2 * L), rel=1e-12)


@pytest.mark.parametrize("model", MODELS, ids=str)
def test_hidden_clipping_matches_naive_and_is_exact_without_a_cut(model):
    xs = np.empty(model.T + 1)
    T, x0, target, act, reg = model.kernel_args()
    for w, b in POINTS:
        for v in (1e-3, 0.05, 1e300):
            gw, gb, cut = kernels.hidden_clipped_error_grad(w, b, T, x0, target, act, v, xs)
            ref_model = Model(T=T, x0=x0, target=target, activation=model.activation)
            _, rw, rb, rcut = naive.bptt(ref_model, w, b, hidden_threshold=v)
            assert cut == rcut
            assert grad_close((gw, gb), (rw, rb), rel=1e-10, floor=1e-300)
            if v == 1e300:  # nothing to cut: the plain gradient of E
                _, ew, eb = loss_and_grad(ref_model, w, b)
                assert not cut and grad_close((gw, gb), (ew, eb), rel=1e-10)


def test_the_gradient_overflows_but_the_loss_does_not():
    # x stays at the fixed point 0 where w·φ'(0) = 2.5: the gradient grows as 2.5^T.
    m = Model(T=1000, x0=0.0)
    L, gw, gb = loss_and_grad(m, 10.0, -5.0)
    assert L == pytest.approx(0.04)
    assert not math.isfinite(gw) and not math.isfinite(gb)


def test_splitmix64_matches_reference_and_angles_are_uniform():
    rng = np.array([42], dtype=np.uint64)
    ref = naive.SplitMix64(42)
    for _ in range(100):
        assert int(kernels._next_u64(rng)) == ref.next()
    rng = np.array([7], dtype=np.uint64)
    angles = np.array([kernels.random_angle(rng) for _ in range(20000)])
    assert angles.min() >= 0 and angles.max() < 2 * math.pi
    hist, _ = np.histogram(angles, bins=8, range=(0, 2 * math.pi))
    assert np.all(np.abs(hist / 2500 - 1) < 0.1)


def test_loss_and_grad_validates():
    with pytest.raises(ValueError, match="w must be finite"):
        loss_and_grad(Model(), math.nan, 0.0)
    with pytest.raises(ValueError, match="model must be a core.Model"):
        loss_and_grad({"T": 5}, 1.0, 0.0)  # type: ignore[arg-type]


def test_own_exp_is_faithfully_rounded_from_0_down_to_underflow():
    # The kernels' exp (vectorizable, the same on every machine) against 30-digit exp.
    rng = np.random.default_rng(0)
    ys = np.concatenate([-rng.exponential(3.0, 2000), -rng.uniform(0.0, 750.0, 1000),
                         [0.0, -0.0, -5e-324, -1e-300, -1e-8, -0.5 * math.log(2), -708.39,
                          -709.0, -744.4, -745.1, -746.0, -1000.0, -1e308]])
    worst = 0.0
    with mpmath.workdps(30):
        for y in ys.tolist():
            got = kernels._exp_neg(y)
            exact = mpmath.exp(mpmath.mpf(y))
            err = float(abs(mpmath.mpf(got) - exact))
            if exact >= sys.float_info.min:
                worst = max(worst, err / math.ulp(float(exact)))
            else:  # subnormal results: within one step of 2^−1074
                assert err <= 5e-324, y
    assert worst < 1.0  # faithful: one of the two floats around the exact value
    assert math.isnan(kernels._exp_neg(math.nan))
    assert kernels._exp_neg(-math.inf) == 0.0
