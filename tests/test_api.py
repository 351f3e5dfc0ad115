"""/api/surface and /api/trajectories answer exactly what ``core`` computes (SPEC §4)."""

from __future__ import annotations

import base64

import numpy as np
import pytest

import core

FIELDS = ("loss", "grad_w", "grad_b")


def as_array(values: list) -> np.ndarray:
    """JSON lists back to float64, null as NaN."""
    return np.array(values, dtype=float)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-for-bit equal, every non-finite value (null in JSON) on both sides at the same place."""
    finite = np.isfinite(b)
    return a.shape == b.shape and np.array_equal(np.isnan(a), ~finite) \
        and np.array_equal(a[finite], b[finite])


def test_default_surface_is_cores(client):
    r = client.get("/api/surface")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    data = r.json()
    s = core.surface(core.Model(), (0.0, 10.0), (-8.0, 2.0), 201)
    assert data["model"] == {"T": 50, "x0": 0.5, "target": 0.7, "activation": "sigmoid",
                             "reg": 0.0}
    assert same(as_array(data["w"]), s.w) and same(as_array(data["b"]), s.b)
    for f in FIELDS:
        assert same(as_array(data[f]), getattr(s, f)), f
    # Rows are b, columns w (Plotly's z[y][x]): the cliff at w = 5 lies near b ≈ −2.612.
    assert len(data["loss"]) == len(data["b"]) and len(data["loss"][0]) == len(data["w"])


def test_surface_query_reaches_core(client):
    q = dict(T=20, x0=0.1, target=0.3, activation="tanh", reg=0.5, w_min=-2, w_max=3,
             b_min=-1, b_max=4, n=7)
    data = client.get("/api/surface", params=q).json()
    s = core.surface(core.Model(T=20, x0=0.1, target=0.3, activation="tanh", reg=0.5),
                     (-2.0, 3.0), (-1.0, 4.0), 7)
    for f in FIELDS:
        assert same(as_array(data[f]), getattr(s, f)), f
    assert data["model"]["activation"] == "tanh" and data["model"]["reg"] == 0.5


def decode(spec: dict) -> np.ndarray:
    assert spec["dtype"] == "f8"
    shape = tuple(int(d) for d in spec["shape"].split(","))
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<f8").reshape(shape)


def test_typed_encoding_is_plotlys_typed_array_of_the_same_numbers(client):
    q = dict(n=9, w_min=999, w_max=1000, b_min=-500.5, b_max=-500, T=1000, x0=0)
    plain = client.get("/api/surface", params=q).json()
    typed = client.get("/api/surface", params={**q, "encoding": "typed"}).json()
    assert typed["model"] == plain["model"]
    assert typed["w"]["shape"] == "9" and typed["loss"]["shape"] == "9,9"
    for f in ("w", "b", *FIELDS):
        assert same(decode(typed[f]), as_array(plain[f])), f


def test_non_finite_values_are_null(client):
    # x stays at the sigmoid's midpoint, so |∂x_t/∂x_{t−1}| = 250 for 1000 steps: overflow.
    q = dict(n=3, w_min=999, w_max=1000, b_min=-500.5, b_max=-500, T=1000, x0=0)
    r = client.get("/api/surface", params=q)
    assert b"NaN" not in r.content and b"Infinity" not in r.content
    assert r.json()["grad_w"][2][2] is None
    s = core.surface(core.Model(T=1000, x0=0.0), (999.0, 1000.0), (-500.5, -500.0), 3)
    assert not np.isfinite(s.grad_w[2, 2])


def test_surface_has_etag_and_answers_304(client):
    r = client.get("/api/surface", params={"n": 11})
    etag = r.headers["etag"]
    assert "max-age=" in r.headers["cache-control"] and "public" in r.headers["cache-control"]
    again = client.get("/api/surface", params={"n": 11}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = client.get("/api/surface", params={"n": 12}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag
    typed = client.get("/api/surface", params={"n": 11, "encoding": "typed"})
    assert typed.headers["etag"] != etag  # another body, another tag


def test_same_surface_is_computed_once(client):
    cache = client.app.state.surfaces
    first = client.get("/api/surface", params={"n": 13, "w_max": 10.0})
    # The same query spelled differently (10 vs 10.0, extra noise) is the same surface.
    second = client.get("/api/surface", params={"n": 13, "w_max": 10, "_": "123"})
    assert first.content == second.content
    assert (cache.misses, cache.hits) == (1, 1)


RUNS = [
    {"label": "plain", "optimizer": "gd", "lr": 0.5, "steps": 30},
    {"label": "norm", "optimizer": "momentum", "lr": 0.5, "steps": 30, "clip": "norm",
     "threshold": 0.5, "momentum": 0.8},
    {"label": "hidden", "optimizer": "nesterov", "steps": 20, "clip": "hidden"},
    {"label": "adam", "optimizer": "adam", "steps": 25, "clip": "value", "threshold": 0.01},
    {"label": "gn", "optimizer": "gauss_newton", "lr": 1.0, "steps": 10, "damping": 2.0},
    {"label": "random", "clip": "random", "threshold": 1e-3, "steps": 15, "seed": 7},
]


def test_trajectories_are_cores(client):
    model = {"T": 30, "x0": 0.5, "target": 0.7, "activation": "sigmoid", "reg": 0.1}
    start = {"w": 5.0, "b": -2.6}
    r = client.post("/api/trajectories", json={"model": model, "start": start, "runs": RUNS})
    assert r.status_code == 200
    runs = r.json()["runs"]
    assert [run["label"] for run in runs] == [run["label"] for run in RUNS]
    for asked, got in zip(RUNS, runs, strict=True):
        kwargs = {k: v for k, v in asked.items() if k != "label"}
        t = core.trajectory(core.Model(**model), (5.0, -2.6), **kwargs)
        assert got["stopped"] == t.stopped
        points = got["points"]
        for f in ("w", "b", "loss", "grad_w", "grad_b"):
            assert same(as_array(points[f]), getattr(t, f)), (asked["label"], f)
        assert points["clipped"] == t.clipped.tolist()
        assert points["event"] == t.event.tolist()
    assert any(runs[1]["points"]["clipped"]) and "random_step" in runs[5]["points"]["event"]


def test_trajectory_defaults(client):
    r = client.post("/api/trajectories", json={"runs": [{}]})
    (run,) = r.json()["runs"]
    t = core.trajectory(core.Model(), (5.0, -2.0))
    assert run["label"] == "" and run["stopped"] == "completed"
    assert same(as_array(run["points"]["loss"]), t.loss) and len(t.loss) == 101


@pytest.mark.parametrize("on_nonfinite", ["stop", "random_step"])
def test_a_run_that_meets_infinity(client, on_nonfinite):
    body = {"model": {"T": 1000, "x0": 0}, "start": {"w": 1000, "b": -500},
            "runs": [{"steps": 5, "on_nonfinite": on_nonfinite}]}
    r = client.post("/api/trajectories", json=body)
    assert r.status_code == 200 and b"Infinity" not in r.content
    run = r.json()["runs"][0]
    assert run["points"]["grad_w"][0] is None
    if on_nonfinite == "stop":
        assert run["stopped"] == "nonfinite" and run["points"]["event"] == ["nonfinite"]
    else:
        assert run["stopped"] == "completed" and run["points"]["event"][0] == "random_step"


def test_zero_steps_records_the_start(client):
    r = client.post("/api/trajectories", json={"runs": [{"steps": 0}]})
    points = r.json()["runs"][0]["points"]
    assert points["w"] == [5.0] and points["b"] == [-2.0]


def test_openapi_and_docs_work_offline(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/surface", "/api/trajectories", "/api/trajectories/stream"} <= set(spec["paths"])
    # The limits in the docs are core's.
    params = {p["name"]: p for p in spec["paths"]["/api/surface"]["get"]["parameters"]}
    assert params["n"]["schema"]["maximum"] == core.limits.GRID_MAX
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    for src in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
                "/docs/init.js"):
        assert src in docs.text
        asset = client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 100, src
    assert "/openapi.json" in client.get("/docs/init.js").text
    assert client.get("/redoc").status_code == 404  # it would load from a CDN


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_concurrent_surfaces_are_each_their_own():
    """Many grids computed at once on worker threads (each itself split over threads) do not
    share state: every answer is the one core computes alone."""
    import threading

    import httpx

    from app.config import Settings
    from app.main import create_app
    from tests.conftest import serve

    queries = [{"n": 150, "T": 40 + i, "x0": 0.1 * i, "encoding": "typed"} for i in range(6)]
    answers: dict[int, dict] = {}
    with serve(create_app(Settings(warm_up=False))) as url:
        def ask(i: int) -> None:
            answers[i] = httpx.get(f"{url}/api/surface", params=queries[i], timeout=60).json()

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(queries))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for i, q in enumerate(queries):
        s = core.surface(core.Model(T=q["T"], x0=q["x0"]), (0.0, 10.0), (-8.0, 2.0), q["n"])
        for f in FIELDS:
            assert same(decode(answers[i][f]), getattr(s, f)), (i, f)
