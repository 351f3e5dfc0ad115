"""Headers on every answer (CSP, nosniff, Referrer-Policy, frame-ancestors), CORS on /api,
static files kept in their folder, and every setting read from the environment."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.config import Settings
from app.main import create_app

PATHS = ["/healthz", "/api/surface?n=3", "/api/surface?n=1", "/openapi.json", "/docs",
         "/docs/init.js", "/docs/assets/swagger-ui.css", "/no/such/page",
         "/api/trajectories/stream?steps=1", "/", "/embed"]


def csp(response) -> dict[str, str]:
    directives = (d.strip().split(" ", 1) for d in response.headers["content-security-policy"]
                  .split(";"))
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_carries_the_headers(client, path):
    r = client.get(path)
    policy = csp(r)
    assert policy["script-src"] == "'self'"
    assert "unsafe-eval" not in r.headers["content-security-policy"]
    assert "unsafe-inline" not in policy["script-src"]
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["img-src"] == "'self' data: blob:"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"]
    assert "x-frame-options" not in r.headers
    expected = "*" if path == "/embed" else "'self'"
    assert policy["frame-ancestors"] == expected


def test_refusals_carry_the_headers_too(client):
    r = client.post("/api/trajectories", content=b"x" * 100_000,
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"]


def test_frame_ancestors_setting():
    hosts = "https://moodle.example.org, https://canvas.example.edu"
    with TestClient(create_app(Settings(frame_ancestors=hosts, warm_up=False))) as c:
        assert csp(c.get("/embed"))["frame-ancestors"] == \
            "https://moodle.example.org https://canvas.example.edu"
        assert csp(c.get("/api/surface?n=2"))["frame-ancestors"] == "'self'"


@pytest.mark.parametrize("bad", ["https://a.example; script-src *", "'unsafe-inline'", "",
                                 "\"x\"", "https://a.example/\r\nX-Evil: 1"])
def test_a_setting_cannot_inject_a_directive(bad):
    with pytest.raises(ValidationError):
        Settings(frame_ancestors=bad)
    with pytest.raises(ValidationError):
        Settings(cors_origins=bad)


def test_cors_on_api_only(client):
    origin = {"Origin": "https://course.example.org"}
    r = client.get("/api/surface?n=2", headers=origin)
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    assert "etag" in r.headers["access-control-expose-headers"].lower()
    pre = client.options("/api/trajectories", headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200 and "POST" in pre.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in client.get("/healthz", headers=origin).headers


def test_cors_origins_setting():
    settings = Settings(cors_origins="https://course.example.org", warm_up=False)
    with TestClient(create_app(settings)) as c:
        ok = c.get("/api/surface?n=2", headers={"Origin": "https://course.example.org"})
        assert ok.headers["access-control-allow-origin"] == "https://course.example.org"
        other = c.get("/api/surface?n=2", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("path", [
    "/docs/assets/../../config.py", "/docs/assets/%2e%2e/%2e%2e/config.py",
    "/docs/assets/..%2f..%2fconfig.py", "/static/../app/main.py", "/static/%2e%2e/app/main.py",
    "/static/..%2fapp%2fmain.py", "/docs/assets/%2fetc%2fpasswd",
])
def test_static_files_stay_in_their_folder(client, path):
    r = client.get(path)
    assert r.status_code == 404 or "import" not in r.text and "root:" not in r.text


@pytest.mark.parametrize(("name", "value", "attribute", "expected"), [
    ("HOST", "0.0.0.0", "host", "0.0.0.0"),
    ("PORT", "9000", "port", 9000),
    ("WORKERS", "4", "workers", 4),
    ("FRAME_ANCESTORS", "https://a.example", "frame_ancestors", "https://a.example"),
    ("CORS_ORIGINS", "https://a.example,https://b.example", "cors_origins",
     "https://a.example https://b.example"),
    ("WARM_UP", "false", "warm_up", False),
    ("MAX_BODY_BYTES", "2048", "max_body_bytes", 2048),
    ("HEAVY_SLOTS", "3", "heavy_slots", 3),
    ("LIGHT_SLOTS", "5", "light_slots", 5),
    ("LIGHT_WORK", "1000", "light_work", 1000),
    ("SURFACE_CACHE_BYTES", "0", "surface_cache_bytes", 0),
    ("CACHE_MAX_AGE", "60", "cache_max_age", 60),
    ("STREAM_CHUNK", "16", "stream_chunk", 16),
])
def test_every_setting_is_an_environment_variable(monkeypatch, name, value, attribute,
                                                  expected):
    monkeypatch.setenv(f"CLIFFSCAPE_{name}", value)
    assert getattr(Settings(), attribute) == expected


def test_the_table_above_covers_every_setting():
    covered = {"host", "port", "workers", "frame_ancestors", "cors_origins", "warm_up",
               "max_body_bytes", "heavy_slots", "light_slots", "light_work",
               "surface_cache_bytes", "cache_max_age", "stream_chunk"}
    assert set(Settings.model_fields) == covered
