"""Hostile and oversized input: every refusal is a 422 (or 413) naming the field and the limit,
never a 500, and heavy work never keeps /healthz waiting."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from app.main import create_app
from core import limits
from tests.conftest import serve


def strict_json(content: bytes) -> object:
    """Parse as browsers do: NaN or Infinity in an answer is an error, not a number."""
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in a JSON answer")
    return json.loads(content, parse_constant=refuse)


def refusal(r: httpx.Response, status: int = 422) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    (error,) = strict_json(r.content)["detail"]
    return error


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("T", "0", f"[{limits.T_MIN}, {limits.T_MAX}]"),
    ("T", str(limits.T_MAX + 1), f"[{limits.T_MIN}, {limits.T_MAX}]"),
    ("T", "2.5", "integer"),
    ("T", "fifty", "integer"),
    ("n", str(limits.GRID_MAX + 1), f"[{limits.GRID_MIN}, {limits.GRID_MAX}]"),
    ("n", "1", f"[{limits.GRID_MIN}, {limits.GRID_MAX}]"),
    ("x0", "nan", "finite"),
    ("x0", "inf", "finite"),
    ("target", "-Infinity", "finite"),
    ("reg", "1e999", "finite"),
    ("reg", "-1", "[0, 1000]"),
    ("w_max", "1e300", "[-1000, 1000]"),
    ("b_min", "NaN", "finite"),
    ("activation", "relu", "'sigmoid', 'tanh'"),
    ("encoding", "xml", "json"),
])
def test_bad_surface_query(client, field, value, allowed):
    error = refusal(client.get("/api/surface", params={field: value}))
    assert error["loc"] == ["query", field]
    assert field in error["msg"] and allowed in error["msg"]


def test_surface_range_must_not_be_empty(client):
    error = refusal(client.get("/api/surface", params={"b_min": 2, "b_max": 2}))
    assert error["loc"] == ["query", "b_max"] and "greater than b_min" in error["msg"]


def test_surface_work_budget(client):
    T = limits.SURFACE_WORK_MAX // limits.GRID_MAX**2 + 1
    error = refusal(client.get("/api/surface", params={"n": limits.GRID_MAX, "T": T}))
    assert error["type"] == "work_limit" and str(limits.SURFACE_WORK_MAX) in error["msg"]


def post(client, body: bytes | str) -> httpx.Response:
    if isinstance(body, str):
        body = body.encode()
    return client.post("/api/trajectories", content=body,
                       headers={"content-type": "application/json"})


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
@pytest.mark.parametrize(("where", "loc"), [
    ('{"model": {"x0": %s}, "runs": [{}]}', ["body", "model", "x0"]),
    ('{"start": {"b": %s}, "runs": [{}]}', ["body", "start", "b"]),
    ('{"runs": [{"lr": 0.1}, {"threshold": %s}]}', ["body", "runs", 1, "threshold"]),
    ('{"runs": [{"steps": %s}]}', ["body", "runs", 0, "steps"]),
    ('{"runs": [{"label": %s}]}', ["body", "runs", 0, "label"]),
    ('{"model": %s, "runs": [{}]}', ["body", "model"]),
])
def test_non_finite_literals_in_a_body(client, literal, where, loc):
    error = refusal(post(client, where % literal))
    assert error["loc"] == loc


@pytest.mark.parametrize(("run", "field", "allowed"), [
    ({"steps": limits.STEPS_MAX + 1}, "steps", f"[0, {limits.STEPS_MAX}]"),
    ({"steps": 10**30}, "steps", f"[0, {limits.STEPS_MAX}]"),
    ({"steps": -1}, "steps", f"[0, {limits.STEPS_MAX}]"),
    ({"lr": 0}, "lr", f"(0, {limits.LR_MAX:g}]"),
    ({"lr": 1e308}, "lr", f"(0, {limits.LR_MAX:g}]"),
    ({"threshold": 0}, "threshold", "(0,"),
    ({"momentum": 1.0}, "momentum", f"[0, {limits.MOMENTUM_MAX}]"),
    ({"damping": -1}, "damping", "[0,"),
    ({"seed": -1}, "seed", "[0,"),
    ({"seed": 2**64}, "seed", str(limits.SEED_MAX)),
    ({"optimizer": "sgd"}, "optimizer", "'gauss_newton'"),
    ({"clip": True}, "clip", "'hidden'"),
    ({"on_nonfinite": None}, "on_nonfinite", "'random_step'"),
    ({"lr": "0.1x"}, "lr", "finite number"),
    ({"steps": [1]}, "steps", "integer"),
    ({"label": 7}, "label", "text"),
    ({"label": "x" * 101}, "label", "at most 100"),
])
def test_bad_run_fields(client, run, field, allowed):
    error = refusal(client.post("/api/trajectories", json={"runs": [run]}))
    assert error["loc"] == ["body", "runs", 0, field]
    assert allowed in error["msg"], error["msg"]


def test_unknown_fields_are_named(client):
    error = refusal(client.post("/api/trajectories", json={"runs": [{"step": 5}]}))
    assert error["loc"] == ["body", "runs", 0, "step"] and error["type"] == "extra_forbidden"


@pytest.mark.parametrize("runs", [[], [{}] * (limits.RUNS_MAX + 1)])
def test_number_of_runs(client, runs):
    error = refusal(client.post("/api/trajectories", json={"runs": runs}))
    assert error["loc"] == ["body", "runs"] and f"1 to {limits.RUNS_MAX}" in error["msg"]


def test_batch_work_budget(client):
    runs = [{"steps": limits.STEPS_MAX}] * 2
    error = refusal(client.post("/api/trajectories",
                                json={"model": {"T": limits.T_MAX}, "runs": runs}))
    assert error["type"] == "work_limit" and str(limits.TRAJECTORY_WORK_MAX) in error["msg"]


@pytest.mark.parametrize("body", [
    "", "null", "[]", '"runs"', "42", "{", '{"runs": [{}]', "{'runs': []}", '{"runs": {}}',
    '{"model": [], "runs": [{}]}', '{"runs": [{"steps": 1' + "0" * 5000 + "}]}",
    "[" * 10_000 + "]" * 10_000, '{"runs": [' + "{" * 5000 + "}" * 5000 + "]}",
    '{"runs": [{}], "model": {"T": {"T": {"T": {"T": 1}}}}}',
])
def test_malformed_bodies(client, body):
    r = post(client, body)
    assert r.status_code == 422, r.text
    assert strict_json(r.content)["detail"]


def test_a_huge_body_is_413_naming_the_limit(client):
    limit = client.app.state.settings.max_body_bytes
    body = '{"runs": [{"label": "' + "x" * limit + '"}]}'
    error = refusal(post(client, body), 413)
    assert str(limit) in error["msg"] and "CLIFFSCAPE_MAX_BODY_BYTES" in error["msg"]

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"runs": [{"label": "'
        for _ in range(limit // 1000 + 1):
            yield b"x" * 1000
        yield b'"}]}'

    r = client.post("/api/trajectories", content=chunks(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("label", ["∇L ≈ 5.7·10³ 🧗", "<script>alert(1)</script>", "a\u0000b\n",
                                   "‮rtl", "\"'\\"])
def test_unicode_labels_are_echoed_as_json(client, label):
    r = client.post("/api/trajectories", json={"runs": [{"label": label, "steps": 1}]})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.json()["runs"][0]["label"] == label
    assert b"<script>" not in r.content or r.content.startswith(b"{")


@pytest.mark.parametrize("body", [
    '{"runs": [{"label": "\\ud800"}]}',  # a lone surrogate: not text
    '{"runs": [{"\\udfff": 1}]}',  # echoed as a field name, safely
    '{"runs": [{}], "\\ud83d": {}}',
])
def test_lone_surrogates(client, body):
    r = post(client, body)
    assert r.status_code == 422
    assert strict_json(r.content)["detail"]


def test_healthz_answers_within_a_second_while_heavy_work_runs():
    """The one timed test: SPEC §4 and issue 4 ask for health within 1 s under load."""
    heavy_T = limits.SURFACE_WORK_MAX // limits.GRID_MAX**2
    with serve(create_app()) as url, httpx.Client(base_url=url, timeout=120) as http:
        results: list[int] = []

        def heavy(i: int) -> None:
            if i < 2:  # the largest surfaces allowed, different
                r = http.get("/api/surface", params={"n": limits.GRID_MAX, "T": heavy_T - i,
                                                     "encoding": "typed"})
            else:  # and the largest batch of runs
                runs = [{"steps": limits.TRAJECTORY_WORK_MAX // limits.T_MAX // 8 - 1}] * 8
                r = http.post("/api/trajectories", json={"model": {"T": limits.T_MAX},
                                                         "runs": runs})
            results.append(r.status_code)

        workers = [threading.Thread(target=heavy, args=(i,)) for i in range(3)]
        for w in workers:
            w.start()
        time.sleep(0.3)  # let them start computing
        latencies = []
        while any(w.is_alive() for w in workers) and len(latencies) < 10:
            t0 = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.1)
        for w in workers:
            w.join()
    assert results == [200] * 3
    assert latencies and max(latencies) < 1.0, latencies
