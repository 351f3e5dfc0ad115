"""The grid: orientation, agreement with loss_and_grad and NumPy, the paper's cliff, threads."""

import math
import threading

import numpy as np
import pytest

from core import Model, loss_and_grad, surface
from tests import naive


def numpy_surface(model, w, b):
    """The whole grid at once, vectorized NumPy with textbook formulas and BPTT (reg = 0)."""
    W, B = np.meshgrid(w, b)
    if model.activation == "sigmoid":
        def f(x):
            return 1 / (1 + np.exp(-x))

        def fp(x):
            return f(x) * (1 - f(x))
    else:
        f = np.tanh

        def fp(x):
            return 1 / np.cosh(x) ** 2
    xs = [np.full_like(W, model.x0)]
    for _ in range(model.T):
        xs.append(W * f(xs[-1]) + B)
    s = f(xs[-1])
    loss = (s - model.target) ** 2
    delta = 2 * (s - model.target) * fp(xs[-1])
    gw = np.zeros_like(W)
    gb = np.zeros_like(W)
    for t in range(model.T, 0, -1):
        gw += delta * f(xs[t - 1])
        gb += delta
        delta = delta * W * fp(xs[t - 1])
    return loss, gw, gb


@pytest.mark.parametrize("model", [Model(), Model(activation="tanh", T=17, x0=-0.2),
                                   Model(reg=0.3, T=9)], ids=str)
def test_every_grid_point_equals_loss_and_grad(model):
    s = surface(model, w_range=(-1.0, 9.0), b_range=(-6.0, 1.5), n=23, threads=3)
    assert s.w.shape == (23,) and s.b.shape == (23,)
    assert s.loss.shape == s.grad_w.shape == s.grad_b.shape == (23, 23)
    assert s.w[0] == -1.0 and s.w[-1] == 9.0 and s.b[0] == -6.0 and s.b[-1] == 1.5
    for i in range(0, 23, 4):
        for j in range(0, 23, 3):
            L, gw, gb = loss_and_grad(model, s.w[j], s.b[i])  # row = b, column = w
            assert s.loss[i, j] == pytest.approx(L, rel=1e-13, abs=1e-300)
            assert s.grad_w[i, j] == pytest.approx(gw, rel=1e-11, abs=1e-13)
            assert s.grad_b[i, j] == pytest.approx(gb, rel=1e-11, abs=1e-13)


def test_orientation_rows_are_b_and_columns_are_w():
    m = Model(T=5)
    s = surface(m, w_range=(0.0, 4.0), b_range=(-3.0, 1.0), n=5)
    # A non-square-looking check: the loss at (w=4, b=−3) sits at row 0, last column.
    assert s.loss[0, -1] == pytest.approx(loss_and_grad(m, 4.0, -3.0)[0], rel=1e-14)
    assert s.loss[-1, 0] == pytest.approx(loss_and_grad(m, 0.0, 1.0)[0], rel=1e-14)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_agrees_with_a_vectorized_numpy_bptt(activation):
    m = Model(T=30, activation=activation)
    s = surface(m, n=41)
    loss, gw, gb = numpy_surface(m, s.w, s.b)
    np.testing.assert_allclose(s.loss, loss, rtol=1e-10, atol=1e-15)
    scale = np.hypot(gw, gb) + 1e-12
    assert np.max(np.hypot(s.grad_w - gw, s.grad_b - gb) / scale) < 1e-8


def cliff_along_b(T: int, w: float = 5.0) -> tuple[float, float]:
    """(b, |∂L/∂b|) where |∂L/∂b| peaks along b ∈ [−4, −1] at ``w``: a scan, refined twice.

    The cliff is about 1e-5 wide in b at T = 50, so a single coarse grid misses its top.
    """
    m = Model(T=T)
    lo, hi = -4.0, -1.0
    for _ in range(3):
        bs = np.linspace(lo, hi, 3001)
        gb = np.array([abs(loss_and_grad(m, w, b)[2]) for b in bs])
        i = int(np.argmax(gb))
        step = bs[1] - bs[0]
        lo, hi = bs[i] - 2 * step, bs[i] + 2 * step
    return float(bs[i]), float(gb[i])


def test_reproduces_the_papers_cliff():
    # |∂E/∂b| along b at w = 5 peaks near b ≈ −2.612 at about 5.7·10³ (SPEC §1) ...
    b, peak = cliff_along_b(50)
    assert b == pytest.approx(-2.612, abs=1e-3)
    assert peak == pytest.approx(5.7e3, rel=0.02)
    # ... while the median gradient norm on the figure's window is below 0.1.
    full = surface(Model(), w_range=(0.0, 10.0), b_range=(-8.0, 2.0), n=201)
    assert np.median(full.grad_norm) < 0.1
    assert full.grad_norm.max() > 100 * np.median(full.grad_norm)


def test_the_cliff_grows_steeper_with_T():
    peaks = [cliff_along_b(T)[1] for T in (10, 25, 50, 100)]
    assert all(a < b for a, b in zip(peaks, peaks[1:], strict=False)), peaks


def test_overflowing_gradients_are_inf_or_nan_not_errors():
    m = Model(T=1000, x0=0.0)
    s = surface(m, w_range=(9.0, 10.0), b_range=(-5.0, -4.0), n=3)
    assert not np.isfinite(s.grad_b[0, -1])  # (w, b) = (10, −5): the fixed point x = 0
    assert np.all(np.isfinite(s.loss))


def test_threads_do_not_change_the_answer_and_concurrent_calls_are_safe():
    m = Model(T=40, reg=0.1)
    ref = surface(m, n=64, threads=1)
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            results[k] = surface(m, n=64, threads=1 + k % 3)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for s in results.values():
        np.testing.assert_array_equal(s.loss, ref.loss)
        np.testing.assert_array_equal(s.grad_w, ref.grad_w)
        np.testing.assert_array_equal(s.grad_b, ref.grad_b)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 1}, "n must be an integer >= 2"),
        ({"n": 10.0}, "n must be an integer"),
        ({"w_range": (1.0, 1.0)}, "w_range must have min < max"),
        ({"b_range": (0.0, math.nan)}, r"b_range\[1\] must be finite"),
        ({"w_range": 3.0}, "w_range must be a pair"),
        ({"threads": 0}, "threads must be an integer >= 1"),
    ],
)
def test_bad_arguments_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        surface(Model(T=3), **kwargs)


def test_naive_loss_agrees_at_a_corner():
    m = Model(T=12, reg=0.2)
    s = surface(m, w_range=(-2.0, 3.0), b_range=(-1.0, 0.5), n=2)
    assert s.loss[1, 0] == pytest.approx(naive.loss(m, -2.0, 0.5), rel=1e-12)
