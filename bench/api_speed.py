"""How fast the API answers one client (run by hand): GET /api/surface with defaults, warm,
served from the cache and computed afresh, JSON and typed arrays; and how soon a stream's
first ``point`` event arrives. Targets (issue 3): surface ≤ 20 ms, first point ≤ 50 ms.

    .venv/bin/python -m bench.api_speed [--url http://127.0.0.1:8000] [--repeat 40]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from bench.local_server import check_loopback, local_server


def median_ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1e3:7.2f} ms   " \
           f"min {min(samples) * 1e3:7.2f} ms   (n = {len(samples)})"


def surface_times(http: httpx.Client, repeat: int, fresh: bool, encoding: str) -> list[float]:
    times = []
    for i in range(repeat + 3):
        # A different x0 each time is a different surface: computed, not cached.
        params: dict[str, str | float] = {"encoding": encoding}
        if fresh:
            params["x0"] = 0.5 + (i + 1) * 1e-9
        t0 = time.perf_counter()
        r = http.get("/api/surface", params=params)
        r.read()
        if i >= 3:  # the first ones warm the connection and the cache
            times.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text
    return times


def first_point_times(http: httpx.Client, repeat: int) -> list[float]:
    times = []
    for i in range(repeat + 2):
        t0 = time.perf_counter()
        with http.stream("GET", "/api/trajectories/stream", params={"steps": 1000}) as r:
            for line in r.iter_lines():
                if line.startswith("data:"):
                    if i >= 2:
                        times.append(time.perf_counter() - t0)
                    break
    return times


def run(url: str, repeat: int) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        for encoding in ("json", "typed"):
            print(f"GET /api/surface (defaults, {encoding:5}) cached:   "
                  + median_ms(surface_times(http, repeat, False, encoding)))
            print(f"GET /api/surface (defaults, {encoding:5}) computed: "
                  + median_ms(surface_times(http, repeat, True, encoding)))
        print("stream: first point event:              "
              + median_ms(first_point_times(http, repeat)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server on loopback (default: start one)")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    if args.url:
        run(check_loopback(args.url), args.repeat)
    else:
        with local_server() as (url, _):
            run(url, args.repeat)


if __name__ == "__main__":
    main()
