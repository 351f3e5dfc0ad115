"""The surface cache: bounded in bytes, least recently used out first, one computation per key."""

from __future__ import annotations

import anyio

from app.cache import SurfaceCache


def test_bounded_in_bytes_and_least_recently_used_out():
    cache = SurfaceCache(max_bytes=400)
    for key in "abcd":
        cache.put(key, b"x" * 100)
    assert cache.bytes == 400 and len(cache) == 4
    assert cache.get("a") is not None  # now the most recently used
    cache.put("e", b"y" * 100)
    assert cache.get("b") is None and cache.get("a") is not None
    assert cache.bytes <= 400
    cache.put("huge", b"z" * 101)  # over a quarter of the cache: not kept
    assert cache.get("huge") is None and cache.bytes <= 400


def test_concurrent_askers_share_one_computation():
    cache = SurfaceCache(max_bytes=10_000)
    calls = []

    async def compute() -> bytes:
        calls.append(1)
        await anyio.sleep(0.05)
        return b"surface"

    async def main() -> list[bytes]:
        results: list[bytes] = []

        async def ask() -> None:
            results.append(await cache.get_or_compute("k", compute))

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(ask)
        return results

    assert anyio.run(main) == [b"surface"] * 20
    assert len(calls) == 1 and (cache.misses, cache.hits) == (1, 19)


def test_a_failed_computation_is_not_cached():
    cache = SurfaceCache(max_bytes=10_000)

    async def fail() -> bytes:
        raise ValueError("no")

    async def ok() -> bytes:
        return b"ok"

    async def main() -> bytes:
        try:
            await cache.get_or_compute("k", fail)
        except ValueError:
            pass
        return await cache.get_or_compute("k", ok)

    assert anyio.run(main) == b"ok"
