"""Token buckets in this process's memory: the SQLite store's rate limit (one machine, one server).

`per_minute` requests per client, refilled evenly; a full bucket is forgotten so memory stays
bounded under many addresses. The PostgreSQL store keeps the same buckets in a table instead.
"""

from __future__ import annotations

import threading
import time

MAX_CLIENTS = 10000  # beyond this many buckets, the full ones are dropped


class MemoryBuckets:
    def __init__(self):
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last time)
        self._lock = threading.Lock()

    def take(self, client: str, per_minute: int) -> float:
        """0.0 when a token was taken, else the seconds until one is there."""
        rate = per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                if len(self._buckets) > MAX_CLIENTS:
                    self._forget_full(now, per_minute)
                return 0.0
            self._buckets[client] = (tokens, now)
        return (1 - tokens) / rate

    def _forget_full(self, now: float, per_minute: int) -> None:
        rate = per_minute / 60.0
        full = [c for c, (t, last) in self._buckets.items() if t + (now - last) * rate >= per_minute]
        for client in full:
            del self._buckets[client]
