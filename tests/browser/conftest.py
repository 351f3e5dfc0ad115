"""Fixtures for the browser tests: a real uvicorn on a free loopback port, a host page on a
second origin, and Debian's Chromium driven by Playwright, with every request and console
error recorded and any request to another host blocked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CLIFFSCAPE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
    # WebGL (the explorer's 3-D view) in software, as --disable-gpu leaves none otherwise.
    "--enable-unsafe-swiftshader",
]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The app under uvicorn, as a user runs it; its base URL once /healthz answers."""
    port = free_port()
    env = {**os.environ, "CLIFFSCAPE_FRAME_ANCESTORS": "*"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"uvicorn exited with {proc.returncode}:\n{out}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("uvicorn did not answer /healthz within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A course page</title></head>
<body><h1>Week 7: exploding gradients</h1>
<iframe id="demo" src="{src}" title="cliffscape" width="900" height="700" style="border:0"></iframe>
<script>
  window.heights = [];
  window.addEventListener("message", (event) => {{
    if (event.data && event.data.type === "cliffscape:height") {{
      window.heights.push({{origin: event.origin, height: event.data.height}});
    }}
  }});
</script></body></html>
"""


@pytest.fixture(scope="session")
def host_origin(server: str) -> Iterator[str]:
    """A course page on another origin (another port) that embeds /embed in an iframe."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            query = urlsplit(self.path).query
            body = HOST_PAGE.format(src=f"{server}/embed{'?' + query if query else ''}").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    # "localhost" rather than "127.0.0.1": another host name and port, so another origin.
    yield f"http://localhost:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        # In CI a missing browser is a missing install step, not a reason to skip.
        missing = pytest.fail if os.environ.get("CI") else pytest.skip
        missing(f"no Chromium at {CHROMIUM} (./scripts/install --test installs it, "
                "or set CLIFFSCAPE_CHROMIUM)")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watch:
    """What a page did: every request, the ones to other hosts (blocked), console errors."""

    requests: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.foreign == [], f"requests to other hosts: {self.foreign}"
        assert self.errors == [], f"console errors: {self.errors}"


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or (parts.hostname or "") in LOOPBACK


@pytest.fixture
def watched(browser: object) -> Iterator[tuple[object, Watch]]:
    """A fresh page (1400×1000) whose requests and console are watched."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    watch = Watch()

    def block(route: object) -> None:
        watch.foreign.append(route.request.url)  # type: ignore[attr-defined]
        route.abort()  # type: ignore[attr-defined]

    context.route(lambda url: not is_loopback(url), block)
    page = context.new_page()
    page.on("request", lambda request: watch.requests.append(request.url))
    page.on("console", lambda msg: watch.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    yield page, watch
    context.close()
