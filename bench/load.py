"""A class hitting cliffscape at once (run by hand, loopback only): requests per second and
p50/p99 latency for the default surface, a batch of trajectories and streams, the errors
(there should be none), and the server's memory before and after.

    .venv/bin/python -m bench.load [--url http://127.0.0.1:8000] [--clients 16]
                                    [--seconds 10] [--workers 1]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable

import httpx

from bench.local_server import check_loopback, local_server, rss_mib

MAX_REQUESTS = 20_000  # per scenario, whatever the duration: the loops are bounded

BATCH = {"model": {"T": 50}, "start": {"w": 5.0, "b": -2.612},
         "runs": [{"label": "without clipping", "lr": 0.5, "steps": 200},
                  {"label": "with clipping", "lr": 0.5, "steps": 200, "clip": "norm"}]}


def surface(http: httpx.Client) -> bool:
    r = http.get("/api/surface", params={"encoding": "typed"})
    return r.status_code == 200


def surface_json(http: httpx.Client) -> bool:
    return http.get("/api/surface").status_code == 200


def batch(http: httpx.Client) -> bool:
    return http.post("/api/trajectories", json=BATCH).status_code == 200


def stream(http: httpx.Client) -> bool:
    params: dict[str, str | float] = {"w0": 5.0, "b0": -2.612, "lr": 0.5, "steps": 200,
                                      "clip": "norm"}
    with http.stream("GET", "/api/trajectories/stream", params=params) as r:
        body = r.read()
    return r.status_code == 200 and b"event: done" in body


def scenario(url: str, name: str, call: Callable[[httpx.Client], bool], clients: int,
             seconds: float) -> None:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        nonlocal errors
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.monotonic() < stop_at and len(latencies) < MAX_REQUESTS:
                t0 = time.perf_counter()
                try:
                    ok = call(http)
                except httpx.HTTPError:
                    ok = False
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    errors += not ok

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    print(f"{name:32} {len(latencies) / elapsed:8.1f} req/s   p50 {q[49] * 1e3:7.1f} ms   "
          f"p99 {q[98] * 1e3:7.1f} ms   errors {errors}/{len(latencies)}")


def run(url: str, pid: int | None, clients: int, seconds: float) -> None:
    print(f"{clients} clients, {seconds:g} s per scenario, {url}")
    if pid:
        print(f"server memory before: {rss_mib(pid):.0f} MiB")
    for name, call in [("GET /api/surface (typed)", surface),
                       ("GET /api/surface (json)", surface_json),
                       ("POST /api/trajectories (2 runs)", batch),
                       ("GET /api/trajectories/stream", stream)]:
        scenario(url, name, call, clients, seconds)
        if pid:
            print(f"{'':32} server memory: {rss_mib(pid):.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server on loopback (default: start one)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1, help="for the server started here")
    args = parser.parse_args()
    if args.url:
        run(check_loopback(args.url), None, args.clients, args.seconds)
    else:
        with local_server(workers=args.workers) as (url, pid):
            run(url, pid, args.clients, args.seconds)


if __name__ == "__main__":
    main()
