"""/api/trajectories/stream: the same points as the batch answer, as Server-Sent Events,
computed only as far as the client reads."""

from __future__ import annotations

import json
import time

import httpx
import pytest

import app.stream
from app.config import Settings
from app.main import create_app
from tests.conftest import serve


def parse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(":")]
        fields = dict(line.split(": ", 1) for line in lines)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def batch(client, model: dict, w0: float, b0: float, run: dict) -> dict:
    body = {"model": model, "start": {"w": w0, "b": b0}, "runs": [run]}
    return client.post("/api/trajectories", json=body).json()["runs"][0]


CASES = [
    ({}, 5.0, -2.0, {}),
    ({"T": 40}, 5.0, -2.612, {"lr": 2.0, "steps": 700, "clip": "norm", "threshold": 0.3}),
    ({"activation": "tanh", "reg": 0.2}, 1.0, 0.5,
     {"optimizer": "adam", "steps": 300, "clip": "hidden"}),
    ({"T": 1000, "x0": 0}, 1000.0, -500.0, {"steps": 5}),  # overflow: stops at once
    ({"T": 1000, "x0": 0}, 1000.0, -500.0,
     {"steps": 50, "on_nonfinite": "random_step", "clip": "random", "seed": 3}),
    ({}, 5.0, -2.0, {"optimizer": "gauss_newton", "lr": 1.0, "steps": 0}),
]


@pytest.mark.parametrize(("model", "w0", "b0", "run"), CASES)
def test_stream_equals_batch(client, model, w0, b0, run):
    r = client.get("/api/trajectories/stream", params={**model, "w0": w0, "b0": b0, **run})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache" and r.headers["x-accel-buffering"] == "no"
    assert "NaN" not in r.text and "Infinity" not in r.text
    events = parse(r.text)
    *points, (last, done) = events
    assert last == "done" and all(kind == "point" for kind, _ in points)
    expected = batch(client, model, w0, b0, run)
    assert done == {"stopped": expected["stopped"], "steps": len(points) - 1}
    assert [p["step"] for _, p in points] == list(range(len(points)))
    for field, values in expected["points"].items():
        assert [p[field] for _, p in points] == values, field


def test_bad_stream_query_is_refused_before_streaming(client):
    r = client.get("/api/trajectories/stream", params={"lr": "nan"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    assert r.json()["detail"][0]["loc"] == ["query", "lr"]
    r = client.get("/api/trajectories/stream", params={"T": 1000, "steps": 100_000,
                                                       "optimizer": "nesterov"})
    assert r.status_code == 422 and "work limit" in r.json()["detail"][0]["msg"]


def test_an_abandoned_stream_stops_computing(monkeypatch):
    computed: list[int] = []
    closed: list[bool] = []
    real = app.stream.iter_trajectory

    def counting(*args, **kwargs):
        try:
            for part in real(*args, **kwargs):
                computed.append(len(part))
                yield part
        finally:
            closed.append(True)

    monkeypatch.setattr(app.stream, "iter_trajectory", counting)
    steps, chunk = 90_000, 64
    settings = Settings(warm_up=False, stream_chunk=chunk)
    with serve(create_app(settings)) as url, httpx.Client(timeout=30) as http:
        params = {"T": 1000, "steps": steps}
        with http.stream("GET", f"{url}/api/trajectories/stream", params=params) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("data:"):
                    break  # the first point arrived; now walk away
        deadline = time.monotonic() + 10
        while not closed and time.monotonic() < deadline:
            time.sleep(0.05)
        assert closed, "the run was not stopped after its client left"
        settled = len(computed)
        time.sleep(0.3)
        assert len(computed) == settled
        assert settled * chunk < steps // 2, settled
