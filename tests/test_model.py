"""Model: validated on construction, immutable, and the kernels' view of it."""

import dataclasses
import math

import pytest

from core import Model


def test_defaults_are_the_papers():
    m = Model()
    assert (m.T, m.x0, m.target, m.activation, m.reg) == (50, 0.5, 0.7, "sigmoid", 0.0)
    assert m.kernel_args() == (50, 0.5, 0.7, 0, 0.0)
    assert Model(activation="tanh").activation_code == 1


def test_is_immutable_and_hashable():
    m = Model(T=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.T = 20  # type: ignore[misc]
    assert hash(m) == hash(Model(T=10)) and m == Model(T=10)


def test_integral_and_real_inputs_are_normalised():
    import numpy as np

    m = Model(T=np.int64(7), x0=np.float32(0.25), target=1)
    assert type(m.T) is int and type(m.x0) is float and type(m.target) is float


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"T": 0}, "T must be an integer >= 1"),
        ({"T": 2.5}, "T must be an integer"),
        ({"T": True}, "T must be an integer"),
        ({"x0": math.nan}, "x0 must be finite"),
        ({"target": math.inf}, "target must be finite"),
        ({"target": "0.7"}, "target must be a real number"),
        ({"activation": "relu"}, "activation must be one of 'sigmoid', 'tanh'"),
        ({"reg": -0.1}, "reg must be >= 0"),
        ({"reg": math.nan}, "reg must be finite"),
    ],
)
def test_bad_arguments_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Model(**kwargs)
