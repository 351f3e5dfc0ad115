"""Benchmark ``core`` against baselines measured in the same run, and print the ratios.

Run by hand from the project root (not part of the test suite):

    .venv/bin/python -m bench.core_bench            # about 20 s on two cores
    .venv/bin/python -m bench.core_bench --quick    # fewer repeats

1. ``core.surface`` against a vectorized NumPy forward pass + BPTT over the grid
   (``bench/numpy_reference.py``), after checking that both give the same L and ∇L.
2. ``core.trajectory`` (10,000 ``gd`` steps, T = 50) against the same maths in a
   plain-Python loop (``bench/python_reference.py``), timed over fewer steps and scaled.
3. The first call's compile time in a fresh process with an empty NUMBA_CACHE_DIR,
   and the same calls in a second process that loads that cache.

Times are medians of repeats; the two sides of a ratio are timed alternately so that
the machine's other work weighs on both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial

import llvmlite
import llvmlite.binding
import numba
import numpy as np

import core
from bench.numpy_reference import surface_numpy
from bench.python_reference import gd
from core import Model
from core.surface import default_threads

SURFACE_CASES = ((256, 50), (512, 200))
AGREE_REL = 1e-9
TRAJ_STEPS = 10_000
TRAJ_T = 50
TRAJ_START = (5.0, -2.0)
TRAJ_LR = 0.01  # small enough that the run stays finite: all 10,001 points are computed


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"CPU: {cpu} (LLVM target {llvmlite.binding.get_host_cpu_name()}), "
            f"{os.cpu_count()} logical CPUs, {default_threads()} usable, load average {load}\n"
            f"Python {platform.python_version()}, NumPy {np.__version__}, "
            f"Numba {numba.__version__}, llvmlite {llvmlite.__version__}, "
            f"SVML {'on' if numba.config.USING_SVML else 'off'}, "
            f"{platform.system()} {platform.release()}")


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def medians(fns: dict[str, Callable[[], object]], repeats: dict[str, int]) -> dict[str, float]:
    """Median time of each function, running them in turn, round after round."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for i in range(max(repeats.values())):
        for k, fn in fns.items():
            if i < repeats[k]:
                times[k].append(timed(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def check_surface_agrees(m: Model, n: int) -> tuple[float, float]:
    """Max relative difference core vs NumPy in L, and in ∇L as a vector, over the grid."""
    s = core.surface(m, n=n)
    L, gw, gb = surface_numpy(s.w, s.b, *m.kernel_args())
    tiny = np.finfo(float).tiny
    dl = np.max(np.abs(L - s.loss) / np.maximum(np.abs(s.loss), tiny))
    dg = np.max(np.hypot(gw - s.grad_w, gb - s.grad_b)
                / np.maximum(np.hypot(s.grad_w, s.grad_b), tiny))
    if not (dl <= AGREE_REL and dg <= AGREE_REL):
        sys.exit(f"core and NumPy disagree at n={n}, T={m.T}: L {dl:.2e}, ∇L {dg:.2e}")
    return float(dl), float(dg)


def bench_surface(repeats: int) -> None:
    threads = default_threads()
    print("\n## surface: core.surface vs NumPy forward pass + BPTT (grid w∈[0,10] × b∈[−8,2])")
    print(f"{'n':>4} {'T':>4} | {'core':>9} {'core 1 thr':>11} {'NumPy':>9} | "
          f"{'core/NumPy':>10} {'1 thr/NumPy':>11} | {'ns/point-step, 1 thr':>20}")
    for n, T in SURFACE_CASES:
        m = Model(T=T)
        dl, dg = check_surface_agrees(m, n)
        w_axis = np.linspace(0.0, 10.0, n)
        b_axis = np.linspace(-8.0, 2.0, n)
        t = medians({
            "core": partial(core.surface, m, n=n),
            "core1": partial(core.surface, m, n=n, threads=1),
            "numpy": partial(surface_numpy, w_axis, b_axis, *m.kernel_args()),
        }, {"core": repeats, "core1": repeats, "numpy": max(3, repeats // 2)})
        per = t["core1"] / (n * n * T) * 1e9
        print(f"{n:>4} {T:>4} | {t['core'] * 1e3:>7.1f}ms {t['core1'] * 1e3:>9.1f}ms "
              f"{t['numpy'] * 1e3:>7.1f}ms | {t['core'] / t['numpy']:>9.3f}× "
              f"{t['core1'] / t['numpy']:>10.3f}× | {per:>20.2f}")
        print(f"{'':>9} agreement: L {dl:.1e}, ∇L {dg:.1e} "
              f"(max relative; required ≤ {AGREE_REL:g})")
    print(f"core uses {threads} threads (the CPUs this process may use); NumPy runs on one.")


def bench_trajectory(repeats: int, python_steps: int) -> None:
    print(f"\n## trajectory: core.trajectory vs a plain-Python loop "
          f"({TRAJ_STEPS:,} gd steps, T = {TRAJ_T}, start {TRAJ_START}, lr {TRAJ_LR})")
    m = Model(T=TRAJ_T)
    r = core.trajectory(m, start=TRAJ_START, lr=TRAJ_LR, steps=TRAJ_STEPS)
    assert r.stopped == "completed" and len(r.w) == TRAJ_STEPS + 1
    ws, bs, ls = gd(*TRAJ_START, TRAJ_LR, python_steps, T=TRAJ_T)
    k = python_steps + 1
    dev = max(np.max(np.abs(np.array(ws) - r.w[:k]) / np.abs(r.w[:k])),
              np.max(np.abs(np.array(bs) - r.b[:k]) / np.abs(r.b[:k])),
              np.max(np.abs(np.array(ls) - r.loss[:k]) / np.abs(r.loss[:k])))
    t = medians({
        "core": lambda: core.trajectory(m, start=TRAJ_START, lr=TRAJ_LR, steps=TRAJ_STEPS),
        "python": lambda: gd(*TRAJ_START, TRAJ_LR, python_steps, T=TRAJ_T),
    }, {"core": repeats, "python": max(3, repeats // 2)})
    python_full = t["python"] * (TRAJ_STEPS + 1) / k
    evaluations = (TRAJ_STEPS + 1) * TRAJ_T
    print(f"core   {t['core'] * 1e3:9.2f} ms   "
          f"{t['core'] / evaluations * 1e9:7.1f} ns per time step")
    print(f"Python {python_full * 1e3:9.1f} ms   "
          f"{python_full / evaluations * 1e9:7.1f} ns per time step"
          f"   (timed over {python_steps} steps, scaled)")
    print(f"core/Python {t['core'] / python_full:.4f}×; the first {k} points agree to {dev:.1e} "
          f"(relative; Python uses libm's exp)")


_FIRST_CALLS = """
import json, time
t0 = time.perf_counter()
import core
t1 = time.perf_counter()
m = core.Model()
core.surface(m, n=8)
t2 = time.perf_counter()
core.trajectory(m, steps=5)
t3 = time.perf_counter()
core.loss_and_grad(m, 5.0, -2.0)
t4 = time.perf_counter()
print(json.dumps({"import core": t1 - t0, "first surface": t2 - t1,
                  "first trajectory": t3 - t2, "first loss_and_grad": t4 - t3,
                  "total": t4 - t0}))
"""


def bench_compile() -> None:
    print("\n## first calls: compile (empty NUMBA_CACHE_DIR) and cache load (second process)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory(prefix="cliffscape-numba-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        rows = []
        for label in ("compile", "cached"):
            out = subprocess.run([sys.executable, "-c", _FIRST_CALLS], env=env, cwd=root,
                                 check=True, capture_output=True, text=True).stdout
            rows.append((label, json.loads(out.strip().splitlines()[-1])))
    keys = list(rows[0][1])
    print(f"{'':>8} | " + " | ".join(f"{k:>19}" for k in keys))
    for label, d in rows:
        print(f"{label:>8} | " + " | ".join(f"{d[k]:>18.3f}s" for k in keys))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--repeats", type=int, default=None, help="repeats per timing (default 9)")
    ap.add_argument("--python-steps", type=int, default=300,
                    help="steps the plain-Python loop is timed over (default 300)")
    ap.add_argument("--no-compile", action="store_true", help="skip the compile-time section")
    args = ap.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 9)
    print("# cliffscape core benchmark")
    print(machine())
    core.surface(Model(), n=8)  # compile (or load from the cache) before any timing
    core.trajectory(Model(), steps=1)
    bench_surface(repeats)
    bench_trajectory(repeats, args.python_steps)
    if not args.no_compile:
        bench_compile()


if __name__ == "__main__":
    main()
