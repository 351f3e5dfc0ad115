"""The pages (app/pages.py, templates/, static/): structure, Plotly from the app, no CDN."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.pages import PLOTLY_JS, PLOTLY_PATH, PLOTLY_VERSION
from core import limits

ROOT = Path(__file__).resolve().parent.parent
FRONT_END = sorted(
    p for d in ("templates", "static") for p in (ROOT / d).rglob("*") if p.is_file()
)


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found, "no page-data block"
    return json.loads(found.group(1))


def scripts(html: str) -> list[str]:
    return re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)


@pytest.mark.parametrize(("path", "page"), [("/", "compare"), ("/explore", "explore"),
                                             ("/embed", "embed")])
def test_page_answers_with_its_module_and_data(client: TestClient, path: str, page: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    data = page_data(r.text)
    assert data["page"] == page
    assert data["plotly"] == PLOTLY_PATH
    assert data["choices"]["clip"] == list(limits.CLIPS)
    assert f'<script src="{PLOTLY_PATH}" defer></script>' in r.text
    module = "explore" if page == "explore" else "compare"
    assert f'<script type="module" src="/static/js/{module}.js"></script>' in r.text
    # CSP script-src 'self': every script is a file or inert JSON, none inline.
    for attrs, body in scripts(r.text):
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
        assert "src=" not in attrs or not body.strip()
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "unsafe-eval" not in r.headers["content-security-policy"]


def test_compare_page_has_both_surfaces_the_player_and_the_caption(client: TestClient) -> None:
    html = client.get("/").text
    for element_id in ("surface-left", "surface-right", "curves", "controls", "play", "step",
                       "restart", "speed", "preset", "copy-embed", "embed-code", "progress",
                       "message"):
        assert f'id="{element_id}"' in html, element_id
    for name in ("T", "lr", "threshold", "clip", "optimizer", "steps", "w0", "b0", "color"):
        assert f'name="{name}"' in html, name
        assert f'<label for="{name}">' in html, f"{name} has no label"
    assert "Without clipping" in html
    assert "Pascanu" in html and "10.11" in html
    assert 'role="alert"' in html and 'role="status"' in html
    assert "Pascanu et al. 2013 / Deep Learning Fig. 10.17" in html


def test_embed_page_is_the_comparison_without_site_chrome(client: TestClient) -> None:
    html = client.get("/embed").text
    assert 'id="surface-left"' in html and 'id="surface-right"' in html
    assert '<header class="site">' not in html
    assert '<footer class="site">' not in html
    assert 'id="open-full"' in html


def test_embed_may_be_framed_by_any_origin_by_default(client: TestClient) -> None:
    r = client.get("/embed")
    assert "frame-ancestors *" in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers
    assert "frame-ancestors 'self'" in client.get("/").headers["content-security-policy"]


def test_explore_page_has_its_plots_and_tables(client: TestClient) -> None:
    html = client.get("/explore").text
    for element_id in ("contour", "surface3d", "runs", "results", "add-run", "controls"):
        assert f'id="{element_id}"' in html, element_id
    for name in ("T", "x0", "target", "activation", "reg", "w0", "b0"):
        assert f'<label for="{name}">' in html, name


def test_plotly_is_served_by_the_app_from_the_plotly_package(client: TestClient) -> None:
    assert PLOTLY_PATH == f"/static/vendor/plotly-{PLOTLY_VERSION}.min.js"
    r = client.get(PLOTLY_PATH)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "immutable" in r.headers["cache-control"]
    assert r.content == PLOTLY_JS.read_bytes()
    assert f"plotly.js v{PLOTLY_VERSION}" in r.text[:200]
    # served from the package, not a copy in the repository
    assert not (ROOT / "static" / "vendor").exists()


@pytest.mark.parametrize("path", ["/static/css/cliffscape.css", "/static/js/state.js",
                                  "/static/js/plots.js", "/static/js/stream.js",
                                  "/static/js/api.js", "/static/js/compare.js",
                                  "/static/js/explore.js"])
def test_static_files_are_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_every_module_a_page_imports_exists() -> None:
    js = ROOT / "static" / "js"
    for module in js.glob("*.js"):
        for name in re.findall(r'from "\./([\w-]+\.js)"', module.read_text()):
            assert (js / name).is_file(), f"{module.name} imports missing {name}"


EXTERNAL = re.compile(r"""(?:https?:)?//(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}""", re.I)


@pytest.mark.parametrize("path", FRONT_END, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_or_static_file_loads_from_another_host(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    # The standards URL in a comment is not a load; anything else that names a host is.
    hosts = [m for m in EXTERNAL.findall(text) if "w3.org/2000/svg" not in m]
    assert hosts == [], f"{path.name} names other hosts: {hosts}"


def test_state_table_ranges_match_core_limits() -> None:
    """The URL table in state.js and core/limits.py must agree on what is allowed."""
    state = (ROOT / "static" / "js" / "state.js").read_text()
    assert f"T: int(50, {limits.T_MIN}, {limits.T_MAX})" in state
    assert f"n: int(201, {limits.GRID_MIN}, {limits.GRID_MAX})" in state
    assert f"momentum: num(0.9, 0, {limits.MOMENTUM_MAX})" in state
    for name in (*limits.OPTIMIZERS, *limits.CLIPS, *limits.ON_NONFINITE, *limits.ACTIVATIONS):
        assert f'"{name}"' in state, name
