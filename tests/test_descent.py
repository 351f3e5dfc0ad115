"""Descent: every clipping rule and optimizer of SPEC §2, step by step, against the formulas."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import Model, RunSpec, iter_trajectory, kernels, loss_and_grad, trajectory
from tests import naive

M = Model()
SMOOTH = Model(T=10)  # a gentle surface: runs stay comparable to the naive twin for long
STEP_KEYS = ("w", "b", "loss", "grad_w", "grad_b")


def assert_same_run(r, ref, rtol=1e-9):
    assert r.stopped == ref["stopped"]
    assert len(r) == len(ref["w"])
    for key in STEP_KEYS:
        np.testing.assert_allclose(getattr(r, key), ref[key], rtol=rtol, atol=1e-12, err_msg=key)
    assert list(r.clipped) == ref["clipped"]
    assert list(r.event) == ref["event"]


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov", "adam", "gauss_newton"])
@pytest.mark.parametrize("clip", ["none", "norm", "value", "hidden", "random"])
def test_every_optimizer_and_clip_matches_the_naive_twin(optimizer, clip):
    model = Model(T=10, reg=0.05) if optimizer == "gauss_newton" else SMOOTH
    kwargs = dict(optimizer=optimizer, lr=0.5 if optimizer != "adam" else 0.05, steps=25,
                  clip=clip, threshold=0.02, seed=3, momentum=0.8, damping=0.5)
    r = trajectory(model, (2.0, -1.0), **kwargs)
    ref = naive.trajectory(model, (2.0, -1.0), **kwargs)
    assert_same_run(r, ref)
    if clip != "none":
        assert r.clipped.any(), "the threshold is meant to bite in this run"


def test_plain_gd_is_exactly_theta_minus_lr_g():
    r = trajectory(M, (5.0, -2.0), lr=0.1, steps=50)
    assert r.stopped == "completed" and len(r) == 51 and r.steps == 50
    np.testing.assert_array_equal(r.w[1:], r.w[:-1] - 0.1 * r.grad_w[:-1])
    np.testing.assert_array_equal(r.b[1:], r.b[:-1] - 0.1 * r.grad_b[:-1])
    assert not r.clipped.any() and set(r.event) == {""}
    for k in (0, 17, 50):
        assert (r.loss[k], r.grad_w[k], r.grad_b[k]) == loss_and_grad(M, r.w[k], r.b[k])


def test_norm_clipping_rescales_only_long_gradients():
    # Start at the foot of the cliff, where ‖g‖ jumps far above the threshold.
    v, lr = 0.5, 0.1
    r = trajectory(M, (5.0, -2.6125), lr=lr, steps=40, clip="norm", threshold=v)
    norms = np.hypot(r.grad_w, r.grad_b)[:-1]
    scale = np.minimum(1.0, v / norms)
    np.testing.assert_allclose(r.w[1:], r.w[:-1] - lr * r.grad_w[:-1] * scale, rtol=1e-15)
    np.testing.assert_allclose(r.b[1:], r.b[:-1] - lr * r.grad_b[:-1] * scale, rtol=1e-15)
    np.testing.assert_array_equal(r.clipped[:-1], norms > v)
    assert r.clipped[0] and norms[0] > 50 * v
    steps = np.hypot(np.diff(r.w), np.diff(r.b))
    assert np.all(steps <= lr * v * (1 + 1e-12))


def test_value_clipping_is_elementwise():
    v, lr = 0.5, 0.1
    r = trajectory(M, (5.0, -2.6125), lr=lr, steps=20, clip="value", threshold=v)
    gw, gb = r.grad_w[:-1], r.grad_b[:-1]
    np.testing.assert_array_equal(r.w[1:], r.w[:-1] - lr * np.clip(gw, -v, v))
    np.testing.assert_array_equal(r.b[1:], r.b[:-1] - lr * np.clip(gb, -v, v))
    np.testing.assert_array_equal(r.clipped[:-1], (np.abs(gw) > v) | (np.abs(gb) > v))


def test_hidden_clipping_uses_the_clipped_error_signal():
    v, lr = 0.01, 0.5
    r = trajectory(M, (5.0, -2.6125), lr=lr, steps=10, clip="hidden", threshold=v)
    for k in range(10):
        _, cw, cb, cut = naive.bptt(M, r.w[k], r.b[k], hidden_threshold=v)
        assert r.clipped[k] == cut
        assert r.w[k + 1] == pytest.approx(r.w[k] - lr * cw, rel=1e-13)
        assert r.b[k + 1] == pytest.approx(r.b[k] - lr * cb, rel=1e-13)
    # The raw gradient is recorded, not the clipped one.
    assert (r.grad_w[0], r.grad_b[0]) == loss_and_grad(M, r.w[0], r.b[0])[1:]


def test_random_clipping_steps_threshold_far_in_the_seeded_direction():
    v = 0.3
    r = trajectory(M, (5.0, -2.6125), lr=0.1, steps=30, clip="random", threshold=v, seed=11)
    rng = naive.SplitMix64(11)
    assert r.event[0] == "random_step"
    for k in range(30):
        long = math.hypot(r.grad_w[k], r.grad_b[k]) > v
        assert r.clipped[k] == long
        if long:
            assert r.event[k] == "random_step"
            uw, ub = rng.unit_vector()
            assert r.w[k + 1] == r.w[k] + v * uw and r.b[k + 1] == r.b[k] + v * ub
        else:
            assert r.w[k + 1] == r.w[k] - 0.1 * r.grad_w[k]


def test_momentum_and_nesterov_follow_sutskever():
    mu, lr = 0.9, 0.05
    for optimizer in ("momentum", "nesterov"):
        r = trajectory(SMOOTH, (2.0, -1.0), optimizer=optimizer, lr=lr, steps=30, momentum=mu)
        vel = np.zeros(2)
        for k in range(30):
            if optimizer == "nesterov":
                g = np.array(loss_and_grad(SMOOTH, r.w[k] + mu * vel[0], r.b[k] + mu * vel[1])[1:])
            else:
                g = np.array([r.grad_w[k], r.grad_b[k]])
            vel = mu * vel - lr * g
            assert r.w[k + 1] == pytest.approx(r.w[k] + vel[0], rel=1e-14)
            assert r.b[k + 1] == pytest.approx(r.b[k] + vel[1], rel=1e-14)
        # Nesterov records the gradient at θ_k, not at the look-ahead point.
        assert (r.grad_w[5], r.grad_b[5]) == loss_and_grad(SMOOTH, r.w[5], r.b[5])[1:]


def test_adam_is_bias_corrected_kingma_ba():
    lr = 0.01
    r = trajectory(M, (5.0, -2.0), optimizer="adam", lr=lr, steps=40)
    m = s = np.zeros(2)
    for k in range(40):
        g = np.array([r.grad_w[k], r.grad_b[k]])
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g * g
        t = k + 1
        step = lr * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
        assert r.w[k + 1] == pytest.approx(r.w[k] - step[0], rel=1e-14)
        assert r.b[k + 1] == pytest.approx(r.b[k] - step[1], rel=1e-14)
    # The first step of Adam moves each coordinate by about lr, whatever the gradient's size.
    assert abs(r.w[1] - r.w[0]) == pytest.approx(lr, rel=1e-6)


def test_gauss_newton_levenberg_marquardt_rejects_uphill_steps_and_only_goes_down():
    m = Model(T=20, reg=0.02)
    r = trajectory(m, (5.0, -2.6125), optimizer="gauss_newton", lr=1.0, steps=60, damping=1e-3)
    # Compared while L is far above rounding; at the minimum, accepting or rejecting
    # a step turns on the last bits of L.
    head = trajectory(m, (5.0, -2.6125), optimizer="gauss_newton", lr=1.0, steps=6, damping=1e-3)
    ref = naive.trajectory(m, (5.0, -2.6125), optimizer="gauss_newton", lr=1.0, steps=6,
                           damping=1e-3)
    assert_same_run(head, ref, rtol=1e-7)
    np.testing.assert_array_equal(head.w, r.w[:7])
    assert "rejected" in set(r.event)
    rejected = r.event[:-1] == "rejected"
    assert np.all(np.diff(r.loss)[~rejected] < 0)
    np.testing.assert_array_equal(np.diff(r.w)[rejected], 0.0)
    assert r.loss[-1] < 0.1 * r.loss[0]  # Ω keeps the minimum above 0
    assert math.hypot(r.grad_w[-1], r.grad_b[-1]) < 1e-6


def test_nonfinite_gradient_stops_the_run():
    m = Model(T=1000, x0=0.0)
    r = trajectory(m, (10.0, -5.0), lr=0.1, steps=10)
    assert r.stopped == "nonfinite" and len(r) == 1 and r.steps == 0
    assert r.event[0] == "nonfinite" and math.isfinite(r.loss[0])
    assert not (math.isfinite(r.grad_w[0]) and math.isfinite(r.grad_b[0]))


def test_nonfinite_gradient_with_random_step_is_rescued():
    m = Model(T=1000, x0=0.0)
    v = 0.7
    r = trajectory(m, (10.0, -5.0), lr=0.1, steps=20, on_nonfinite="random_step",
                   threshold=v, seed=5)
    assert r.stopped == "completed" and len(r) == 21
    assert r.event[0] == "random_step"
    uw, ub = naive.SplitMix64(5).unit_vector()
    assert (r.w[1], r.b[1]) == (10.0 + v * uw, -5.0 + v * ub)
    assert np.all(np.isfinite(r.grad_w[-5:]))


def test_same_seed_same_run_bit_for_bit_and_other_seed_differs():
    kw = dict(lr=0.2, steps=200, clip="random", threshold=0.05, seed=1234)
    a = trajectory(M, (5.0, -2.6125), **kw)
    b = trajectory(M, (5.0, -2.6125), **kw)
    for key in (*STEP_KEYS, "clipped", "event"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    c = trajectory(M, (5.0, -2.6125), **{**kw, "seed": 1235})
    assert not np.array_equal(a.w, c.w)


@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_chunks_join_into_the_whole_run(chunk):
    kw = dict(optimizer="adam", lr=0.05, steps=150, clip="random", threshold=0.5, seed=9)
    whole = trajectory(M, (5.0, -2.6125), **kw)
    parts = list(iter_trajectory(M, (5.0, -2.6125), chunk=chunk, **kw))
    assert [p.stopped for p in parts[:-1]] == ["running"] * (len(parts) - 1)
    assert parts[-1].stopped == whole.stopped == "completed"
    assert [p.start for p in parts] == list(range(0, 151, chunk))
    for key in (*STEP_KEYS, "clipped", "event"):
        np.testing.assert_array_equal(np.concatenate([getattr(p, key) for p in parts]),
                                      getattr(whole, key))


def test_chunks_stop_at_a_nonfinite_point():
    parts = list(iter_trajectory(Model(T=1000, x0=0.0), (10.0, -5.0), chunk=4, steps=10))
    assert len(parts) == 1 and parts[0].stopped == "nonfinite" and len(parts[0]) == 1


def test_zero_steps_records_the_start():
    r = trajectory(M, (1.0, 2.0), steps=0)
    assert len(r) == 1 and r.stopped == "completed" and (r.w[0], r.b[0]) == (1.0, 2.0)


@settings(max_examples=200, deadline=None)
@given(gw=st.floats(-1e300, 1e300), gb=st.floats(-1e300, 1e300),
       v=st.floats(1e-6, 1e6), clip=st.sampled_from(["norm", "value"]))
def test_clipped_gradients_are_bounded_and_norm_clipping_keeps_direction(gw, gb, v, clip):
    code = kernels.CLIP_NORM if clip == "norm" else kernels.CLIP_VALUE
    xs = np.empty(2)
    cw, cb, clipped = kernels._used_gradient(0.0, 0.0, 1, 0.5, 0.7, 0, 0.0, code, v,
                                             gw, gb, 0.0, 0.0, xs)
    if clip == "value":
        assert -v <= cw <= v and -v <= cb <= v
        assert clipped == (abs(gw) > v or abs(gb) > v)
        return
    n = math.hypot(gw, gb)
    assert math.hypot(cw, cb) <= v * (1 + 1e-12) or not clipped
    assert clipped == (n > v)
    if clipped:
        assert math.hypot(cw, cb) == pytest.approx(v, rel=1e-12)
        # same direction: parallel (zero cross product) and pointing the same way
        assert abs(cw * gb - cb * gw) <= 1e-12 * v * n
        assert cw * gw + cb * gb > 0
    else:
        assert (cw, cb) == (gw, gb)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**64 - 1), w=st.floats(0, 10), b=st.floats(-8, 2),
       clip=st.sampled_from(["none", "norm", "value", "hidden", "random"]))
def test_any_run_is_reproducible_from_its_seed(seed, w, b, clip):
    kw = dict(steps=20, clip=clip, threshold=0.1, seed=seed, on_nonfinite="random_step")
    a, b_ = trajectory(M, (w, b), **kw), trajectory(M, (w, b), **kw)
    np.testing.assert_array_equal(a.w, b_.w)
    np.testing.assert_array_equal(a.b, b_.b)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"optimizer": "sgd"}, "optimizer must be one of 'gd', 'momentum'"),
        ({"clip": "l2"}, "clip must be one of 'none', 'norm', 'value', 'hidden', 'random'"),
        ({"on_nonfinite": "ignore"}, "on_nonfinite must be one of 'stop', 'random_step'"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"lr": math.inf}, "lr must be finite"),
        ({"threshold": -1.0}, "threshold must be > 0"),
        ({"steps": -1}, "steps must be an integer >= 0"),
        ({"steps": 1.5}, "steps must be an integer"),
        ({"momentum": 1.5}, "momentum must be <= 1"),
        ({"damping": -1.0}, "damping must be >= 0"),
        ({"seed": -1}, r"seed must be an integer in \[0, "),
        ({"start": (1.0,)}, "start must be a pair"),
        ({"start": (math.nan, 0.0)}, r"start\[0\] \(w\) must be finite"),
    ],
)
def test_bad_arguments_say_what_is_allowed(kwargs, message):
    kwargs = {"start": (1.0, 0.0), **kwargs}
    with pytest.raises(ValueError, match=message):
        trajectory(M, **kwargs)


def test_a_run_spec_gives_back_the_run_it_validated():
    kw = dict(optimizer="nesterov", lr=0.3, steps=12, clip="value", threshold=0.2,
              momentum=0.5, damping=2.0, on_nonfinite="random_step", seed=4)
    spec = RunSpec.make(M, (5.0, -2.6), **kw)
    assert spec.run_kwargs() == kw
    a = trajectory(M, spec.start, **spec.run_kwargs())
    np.testing.assert_array_equal(a.w, trajectory(M, (5.0, -2.6), **kw).w)
