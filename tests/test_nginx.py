"""deploy/nginx.conf in front of a real uvicorn with 2 workers: a repeated surface is a cache
HIT, a stream passes through unbuffered and unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.nginx

ROOT = Path(__file__).resolve().parent.parent
NGINX = Path("/usr/sbin/nginx")


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def nginx_conf(tmp: Path, listen: int, upstream: int) -> str:
    """deploy/nginx.conf with loopback ports and every path inside ``tmp``."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for old, new in [("listen 8080;", f"listen 127.0.0.1:{listen};"),
                     ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
                     ("/var/cache/nginx/cliffscape", str(tmp / "cache"))]:
        assert old in conf, old
        conf = conf.replace(old, new)
    temp = "".join(f"    {kind}_temp_path {tmp / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    temp += f"    access_log {tmp / 'access.log'};\n"
    return conf.replace("http {\n", "http {\n" + temp, 1)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory) -> Iterator[str]:
    if not NGINX.exists():
        # In CI a missing nginx is a missing install step, not a reason to skip.
        missing = pytest.fail if os.environ.get("CI") else pytest.skip
        missing("Debian's nginx is not installed (./scripts/install --test installs it)")
    tmp = tmp_path_factory.mktemp("nginx")
    app_port, nginx_port = free_port(), free_port()
    env = {**os.environ, "CLIFFSCAPE_PORT": str(app_port), "CLIFFSCAPE_WORKERS": "2"}
    app = subprocess.Popen([sys.executable, "-m", "app.cli"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (tmp / "nginx.conf").write_text(nginx_conf(tmp, nginx_port, app_port))
    user = "user root;" if os.geteuid() == 0 else ""
    nginx = subprocess.Popen(
        [str(NGINX), "-p", str(tmp), "-c", str(tmp / "nginx.conf"),
         "-g", f"daemon off; pid {tmp / 'nginx.pid'}; error_log {tmp / 'error.log'}; {user}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{app_port}/healthz", app)
        wait_for(f"http://127.0.0.1:{nginx_port}/healthz", nginx)
        yield f"http://127.0.0.1:{nginx_port}"
    finally:
        for proc in (nginx, app):
            proc.terminate()
        for proc in (nginx, app):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_a_repeated_surface_is_a_cache_hit(proxy):
    url = f"{proxy}/api/surface?n=31&T=40"
    first = httpx.get(url)
    second = httpx.get(url)
    assert first.status_code == second.status_code == 200
    assert first.headers["x-cache-status"] == "MISS"
    assert second.headers["x-cache-status"] == "HIT"
    assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
    # The app's headers survive the cache.
    assert second.headers["x-content-type-options"] == "nosniff"
    not_modified = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304


def test_surfaces_are_gzipped(proxy):
    r = httpx.get(f"{proxy}/api/surface?n=51", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers.get("content-length", 10**9)) > 0 and r.json()["w"][-1] == 10.0


def test_a_stream_passes_unbuffered(proxy):
    params = {"T": 1000, "steps": 49_000, "optimizer": "nesterov", "clip": "norm"}
    events_at: list[float] = []
    chunks: list[bytes] = []
    with httpx.Client(timeout=60) as http:
        t0 = time.perf_counter()
        with http.stream("GET", f"{proxy}/api/trajectories/stream", params=params,
                         headers={"Accept-Encoding": "gzip"}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in r.headers and "content-length" not in r.headers
            for chunk in r.iter_raw():
                events_at.append(time.perf_counter() - t0)
                chunks.append(chunk)
        # The first events reached the client while the run was still being computed:
        # they came in many pieces, the first long before the last.
        assert len(chunks) > 10
        assert events_at[0] < events_at[-1] / 2, (events_at[0], events_at[-1])
        body = b"".join(chunks)
        assert body.startswith(b"event: point\ndata: {\"step\":0,")
        assert body.rstrip().endswith(b'{"stopped":"completed","steps":49000}')
        assert body.count(b"event: point\n") == 49_001
