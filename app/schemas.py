"""Request and response models of the HTTP API (SPEC §4), their limits taken from ``core.limits``.

Every bounded field records its allowed range in ``ALLOWED``, which the 422 answers
quote, so that a refusal always says what would have been accepted.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core import limits

ALLOWED: dict[str, str] = {}
LABEL_MAX = 100  # characters of a run's label

Activation = Literal[limits.ACTIVATIONS]  # type: ignore[valid-type]
Optimizer = Literal[limits.OPTIMIZERS]  # type: ignore[valid-type]
Clip = Literal[limits.CLIPS]  # type: ignore[valid-type]
OnNonfinite = Literal[limits.ON_NONFINITE]  # type: ignore[valid-type]
Stopped = Literal["completed", "nonfinite"]


def _number(name: str, default: float, lo: float, hi: float, doc: str, *,
            lo_open: bool = False) -> Any:
    left = "(" if lo_open else "["
    ALLOWED[name] = f"a finite number in {left}{lo:g}, {hi:g}]"
    return Field(default, gt=lo if lo_open else None, ge=None if lo_open else lo, le=hi,
                 allow_inf_nan=False,
                 description=f"{doc} Allowed: {ALLOWED[name]}.")


def _integer(name: str, default: int, lo: int, hi: int, doc: str) -> Any:
    ALLOWED[name] = f"an integer in [{lo}, {hi}]"
    return Field(default, ge=lo, le=hi, description=f"{doc} Allowed: {ALLOWED[name]}.")


def _choice(name: str, default: str, choices: tuple[str, ...], doc: str) -> Any:
    ALLOWED[name] = "one of " + ", ".join(repr(c) for c in choices)
    return Field(default, description=f"{doc} Allowed: {ALLOWED[name]}.")


P = limits.PARAM_ABS_MAX


class ModelParams(BaseModel):
    """The one-unit RNN x_t = w·φ(x_{t−1}) + b; the loss L = (φ(x_T) − target)² + reg·Ω."""

    model_config = ConfigDict(extra="forbid")

    T: int = _integer("T", 50, limits.T_MIN, limits.T_MAX, "Time steps of the recurrence.")
    x0: float = _number("x0", 0.5, -limits.VALUE_ABS_MAX, limits.VALUE_ABS_MAX, "Initial state.")
    target: float = _number("target", 0.7, -limits.VALUE_ABS_MAX, limits.VALUE_ABS_MAX,
                            "Target for φ(x_T).")
    activation: Activation = _choice("activation", "sigmoid", limits.ACTIVATIONS,
                                     "The non-linearity φ.")
    reg: float = _number("reg", 0.0, 0.0, limits.REG_MAX,
                         "Weight of the information-flow regularizer Ω (Pascanu et al. 2013).")


class ModelQuery(ModelParams):
    # Query strings carry what browsers and caches add (cache busters): ignore extras.
    model_config = ConfigDict(extra="ignore")


class SurfaceQuery(ModelQuery):
    w_min: float = _number("w_min", 0.0, -P, P, "Left end of the w axis.")
    w_max: float = _number("w_max", 10.0, -P, P, "Right end of the w axis (> w_min).")
    b_min: float = _number("b_min", -8.0, -P, P, "Bottom end of the b axis.")
    b_max: float = _number("b_max", 2.0, -P, P, "Top end of the b axis (> b_min).")
    n: int = _integer("n", 201, limits.GRID_MIN, limits.GRID_MAX, "Grid points per axis.")
    encoding: Literal["json", "typed"] = _choice(
        "encoding", "json", ("json", "typed"), "'json': plain lists (null for non-finite "
        "values). 'typed': each array as Plotly's typed-array spec {dtype: 'f8', bdata: base64 "
        "of little-endian float64, shape: 'n' or 'rows,cols'}, non-finite values as NaN.")

    def model(self) -> ModelParams:
        return ModelParams(**{k: getattr(self, k) for k in ModelParams.model_fields})


class RunFields(BaseModel):
    """How one run descends: optimizer, clipping, and what to do with non-finite values."""

    optimizer: Optimizer = _choice("optimizer", "gd", limits.OPTIMIZERS, "The optimizer.")
    lr: float = _number("lr", 0.1, limits.LR_MIN, limits.LR_MAX, "Learning rate ε.",
                        lo_open=True)
    steps: int = _integer("steps", 100, limits.STEPS_MIN, limits.STEPS_MAX, "Steps to take.")
    clip: Clip = _choice("clip", "none", limits.CLIPS, "The clipping rule.")
    threshold: float = _number("threshold", 1.0, 0.0, limits.THRESHOLD_MAX,
                               "Clipping threshold v (also a random step's length).",
                               lo_open=True)
    momentum: float = _number("momentum", 0.9, 0.0, limits.MOMENTUM_MAX,
                              "μ for 'momentum' and 'nesterov'.")
    damping: float = _number("damping", 1.0, 0.0, limits.DAMPING_MAX,
                             "Initial Levenberg–Marquardt λ for 'gauss_newton'.")
    on_nonfinite: OnNonfinite = _choice("on_nonfinite", "stop", limits.ON_NONFINITE,
                                        "What to do when θ, L or ∇L is not finite.")
    seed: int = _integer("seed", 0, 0, limits.SEED_MAX, "Seeds the random steps.")

    def run_kwargs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in RunFields.model_fields}


ALLOWED["label"] = f"text of at most {LABEL_MAX} characters"


class RunIn(RunFields):
    model_config = ConfigDict(extra="forbid")

    label: str = Field("", max_length=LABEL_MAX,
                       description=f"Echoed back. Allowed: {ALLOWED['label']}.")

    @field_validator("label")
    @classmethod
    def _encodable(cls, label: str) -> str:
        try:
            label.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a lone surrogate is not text") from None
        return label


class Start(BaseModel):
    model_config = ConfigDict(extra="forbid")

    w: float = _number("w", 5.0, -P, P, "θ_0's w.")
    b: float = _number("b", -2.0, -P, P, "θ_0's b.")


ALLOWED["runs"] = f"a list of 1 to {limits.RUNS_MAX} runs"


class TrajectoriesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: ModelParams = Field(default_factory=ModelParams)
    start: Start = Field(default_factory=Start)
    runs: list[RunIn] = Field(min_length=1, max_length=limits.RUNS_MAX,
                              description=f"Allowed: {ALLOWED['runs']}.")


class StreamQuery(ModelQuery, RunFields):
    w0: float = _number("w0", 5.0, -P, P, "θ_0's w.")
    b0: float = _number("b0", -2.0, -P, P, "θ_0's b.")

    def model(self) -> ModelParams:
        return ModelParams(**{k: getattr(self, k) for k in ModelParams.model_fields})


class TypedArray(BaseModel):
    """Plotly's typed-array spec (Plotly.js ≥ 2.28 takes it in place of a list)."""

    dtype: Literal["f8"]
    bdata: str = Field(description="Base64 of the little-endian float64 values, row by row.")
    shape: str = Field(description="'n' for a 1-D array, 'rows,cols' for a 2-D one.")


Floats = list[float | None]


class SurfaceOut(BaseModel):
    """L and ∇L on a grid; 2-D arrays are indexed [b][w] (Plotly's z[y][x])."""

    model: ModelParams
    w: Floats | TypedArray
    b: Floats | TypedArray
    loss: list[Floats] | TypedArray
    grad_w: list[Floats] | TypedArray
    grad_b: list[Floats] | TypedArray


class Points(BaseModel):
    w: Floats
    b: Floats
    loss: Floats
    grad_w: Floats
    grad_b: Floats
    clipped: list[bool]
    event: list[str]


class RunOut(BaseModel):
    label: str
    stopped: Stopped
    points: Points


class TrajectoriesOut(BaseModel):
    runs: list[RunOut]


class PointEvent(BaseModel):
    """The data of one ``point`` event of a stream."""

    step: int
    w: float | None
    b: float | None
    loss: float | None
    grad_w: float | None
    grad_b: float | None
    clipped: bool
    event: str


class DoneEvent(BaseModel):
    """The data of the final ``done`` event of a stream."""

    stopped: Stopped
    steps: int
