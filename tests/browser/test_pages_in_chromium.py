"""The three pages in a real browser (Chromium through Playwright) against a real uvicorn:
plots drawn, runs streamed onto both surfaces, clicks and controls restart them, the embed
works inside another origin's page, no console errors, no request to another host."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

SHOTS = "/tmp/cliffscape-{}.png"

# The runs drawn on one surface: the "lines+markers" trace of each Plotly figure.
RUN_ON = """(id) => {
  const el = document.getElementById(id);
  if (!el || !el.data) return null;
  const run = el.data.find((t) => t.mode === "lines+markers");
  return run ? {w: Array.from(run.x), b: Array.from(run.y), name: run.name,
                notes: (el.layout.annotations || []).map((a) => a.text)} : null;
}"""


def wait_for(page: Any, js: str, arg: Any = None, timeout: float = 30.0) -> Any:
    """Poll a function in the page (page.wait_for_function would need 'unsafe-eval')."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(js, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {js} ({arg!r})")
        time.sleep(0.1)


def run_on(page: Any, side: str) -> dict:
    return page.evaluate(RUN_ON, f"surface-{side}")


def wait_until_played(page: Any, steps: int = 100, timeout: float = 40.0) -> None:
    done = f"step {steps} of {steps}"
    wait_for(page, f"() => document.getElementById('counter').textContent === '{done}'"
             " && document.getElementById('progress').hidden", timeout=timeout)


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_compare_page_draws_both_runs_and_the_unclipped_one_is_thrown_off(server, watched) -> None:
    page, watch = watched
    page.goto(f"{server}/?speed=500")
    wait_until_played(page)
    left, right = run_on(page, "left"), run_on(page, "right")
    assert len(left["w"]) == len(right["w"]) == 101
    assert (left["w"][0], left["b"][0]) == (right["w"][0], right["b"][0]) == (6, -4.5)
    # Fig. 10.17: without clipping the step at the wall leaves the axes; with it the run stays.
    assert max(left["w"]) > 10 or max(left["b"]) > 2
    assert any("thrown off the axes" in note for note in left["notes"])
    assert all(0 <= w <= 10 for w in right["w"]) and all(-8 <= b <= 2 for b in right["b"])
    assert right["notes"] == []
    # the surfaces and the curves are drawn, with a colour bar
    assert page.locator("#surface-left .heatmaplayer image").count() == 1
    assert page.locator("#surface-right .colorbar").count() == 1
    assert page.locator("#curves .scatterlayer .trace").count() == 4
    assert page.locator("#message").is_hidden()
    page.screenshot(path=SHOTS.format("compare"), full_page=True)
    watch.assert_clean()
    assert any("/api/trajectories/stream?" in url for url in watch.requests)
    assert any("/api/surface?" in url and "encoding=typed" in url for url in watch.requests)


def test_click_on_a_surface_starts_both_runs_from_there(server, watched) -> None:
    page, watch = watched
    page.goto(f"{server}/?speed=500&steps=20")
    wait_until_played(page, 20)
    # the pixel of (w, b) = (3, -6) on the right-hand surface
    x, y = page.evaluate("""() => {
      const el = document.getElementById("surface-right");
      const {xaxis, yaxis} = el._fullLayout;
      const box = el.getBoundingClientRect();
      return [box.left + xaxis._offset + xaxis.l2p(3), box.top + yaxis._offset + yaxis.l2p(-6)];
    }""")
    page.mouse.click(x, y)
    wait_for(page, "() => new URLSearchParams(location.search).has('w0')")
    wait_until_played(page, 20)
    q = query_of(page)
    w0, b0 = float(q["w0"][0]), float(q["b0"][0])
    assert abs(w0 - 3) < 0.1 and abs(b0 + 6) < 0.1
    for side in ("left", "right"):
        run = run_on(page, side)
        assert (run["w"][0], run["b"][0]) == (w0, b0)
    assert page.input_value("#w0") == q["w0"][0]
    watch.assert_clean()


def test_controls_change_the_runs_and_the_url(server, watched) -> None:
    page, watch = watched
    page.goto(f"{server}/?speed=500")
    wait_until_played(page)
    page.fill("#lr", "0.1")
    page.press("#lr", "Tab")
    wait_for(page, "() => new URLSearchParams(location.search).get('lr') === '0.1'")
    wait_until_played(page)
    left = run_on(page, "left")
    # a small step never reaches the wall in 100 steps: nothing is thrown off
    assert all(0 <= w <= 10 for w in left["w"]) and all(-8 <= b <= 2 for b in left["b"])
    page.select_option("#clip", "value")
    wait_for(page, "() => document.getElementById('heading-right').textContent"
             ".startsWith('With element-wise clipping')")
    assert query_of(page)["clip"] == ["value"]
    # the URL is the state: reloading it gives the same controls
    page.reload()
    assert page.input_value("#lr") == "0.1"
    assert page.input_value("#clip") == "value"
    page.click("#step")  # keyboard-operable buttons exist and do not throw
    watch.assert_clean()


def test_overflow_preset_stops_the_plain_run_and_a_random_step_rescues_the_other(server, watched):
    page, watch = watched
    page.goto(f"{server}/?speed=500")
    page.select_option("#preset", "overflow")
    wait_for(page, "() => new URLSearchParams(location.search).get('T') === '1000'")
    wait_for(page, "() => document.getElementById('summary-left').textContent"
             ".includes('overflowed') && document.getElementById('summary-right').textContent"
             ".includes('done')", timeout=40)
    assert len(run_on(page, "left")["w"]) == 1
    assert len(run_on(page, "right")["w"]) == 101
    watch.assert_clean()


def test_a_refused_request_shows_the_servers_reason(server, watched) -> None:
    page, watch = watched
    # allowed by the page's own table, but over the server's work limit for one surface
    page.goto(f"{server}/?T=1000&n=1024&steps=5&speed=500")
    message = page.locator("#message")
    message.wait_for(state="visible", timeout=30_000)
    assert message.inner_text().startswith("The server refused:")
    assert len(message.inner_text()) > len("The server refused: ") + 10
    # the browser logs the 422 itself; nothing else may go wrong
    assert all("422" in e for e in watch.errors), watch.errors
    assert watch.foreign == []


def test_reduced_motion_shows_the_runs_without_animating(browser, server) -> None:
    context = browser.new_context(reduced_motion="reduce", viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{server}/")
        wait_for(page, "() => document.getElementById('summary-right').textContent"
                 ".includes('done')")
        assert page.get_attribute("#play", "aria-pressed") == "false"
        assert len(run_on(page, "right")["w"]) == 101
    finally:
        context.close()


def test_explorer_draws_every_run_on_the_contour_map_and_in_3d(server, watched) -> None:
    page, watch = watched
    page.goto(f"{server}/explore")
    wait_for(page, "() => document.querySelectorAll('#results tr').length === 4", timeout=40)
    wait_for(page, """() => {
      const el = document.getElementById("surface3d");
      return el.data && el.data.filter((t) => t.type === "scatter3d").length === 4;
    }""")
    runs = page.evaluate("""() => document.getElementById("contour").data
      .filter((t) => t.mode === "lines+markers").map((t) => t.name)""")
    assert len(runs) == 4 and "no clipping" in runs[0]
    assert page.locator("#results tr").first.inner_text().count("completed") == 1
    page.click("#add-run")
    wait_for(page, "() => document.querySelectorAll('#results tr').length === 5", timeout=30)
    assert query_of(page)["runs"] == ["5"]
    page.select_option("[name='r2.optimizer']", "adam")
    wait_for(page, "() => new URLSearchParams(location.search).get('r2.optimizer') === 'adam'")
    wait_for(page, "() => document.querySelector('#results tr:nth-child(2)').textContent"
             ".includes('Adam')", timeout=30)
    page.screenshot(path=SHOTS.format("explore"), full_page=True)
    watch.assert_clean()


def test_embed_works_in_an_iframe_on_another_origin(server, host_origin, watched) -> None:
    page, watch = watched
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto(f"{host_origin}/?lr=0.5&speed=500&steps=60")
    frame = page.frame_locator("#demo")
    frame.locator("#surface-left .heatmaplayer image").wait_for(timeout=30_000)
    embedded = next(f for f in page.frames if f.url.startswith(f"{server}/embed"))
    wait_for(embedded, "() => document.getElementById('counter').textContent === 'step 60 of 60'",
             timeout=40)
    # every setting came from the query string
    assert embedded.input_value("#lr") == "0.5"
    assert len(embedded.evaluate(RUN_ON, "surface-right")["w"]) == 61
    assert frame.locator("header.site").count() == 0
    heights = wait_for(page, "() => window.heights.length && window.heights")
    assert heights[-1]["origin"] == server
    assert 200 < heights[-1]["height"] < 3000
    page.screenshot(path=SHOTS.format("embed-in-course-page"))
    watch.assert_clean()


def test_embed_fits_a_narrow_frame(server, watched) -> None:
    page, watch = watched
    page.set_viewport_size({"width": 420, "height": 700})
    page.goto(f"{server}/embed?speed=500")
    wait_until_played(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 420, "the embed scrolls sideways in a narrow frame"
    box = page.locator("#surface-right").bounding_box()
    assert box and box["width"] > 300
    page.screenshot(path=SHOTS.format("embed-narrow"), full_page=True)
    watch.assert_clean()
