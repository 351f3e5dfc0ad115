"""A least-recently-used cache of rendered surfaces, bounded in bytes.

A whole class opening the default view should cost one computation: concurrent
requests for the same surface wait for the one already being computed instead of
starting their own. Used from the event loop only, so it needs no lock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

import anyio


class SurfaceCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._pending: dict[Hashable, anyio.Event] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> bytes | None:
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: Hashable, body: bytes) -> None:
        # One answer may take at most a quarter of the cache, so that a few huge
        # grids cannot flush everyone's default view.
        if len(body) > self.max_bytes // 4 or key in self._entries:
            return
        self._entries[key] = body
        self.bytes += len(body)
        while self.bytes > self.max_bytes:
            _, old = self._entries.popitem(last=False)
            self.bytes -= len(old)

    async def get_or_compute(self, key: Hashable, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached answer for ``key``, or ``await compute()`` once however many ask at once."""
        while (pending := self._pending.get(key)) is not None:
            await pending.wait()
        if (body := self.get(key)) is not None:
            self.hits += 1
            return body
        self.misses += 1
        done = self._pending[key] = anyio.Event()
        try:
            body = await compute()
            self.put(key, body)
            return body
        finally:
            del self._pending[key]
            done.set()
