"""The server's gatekeeping: API key, CORS, rate limit, and the cap on requests in flight.

Each check either passes or raises an error of skills/errors.py with the status and JSON a client can act on.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time

from skills.errors import Overloaded, RateLimited, Unauthorized
from skills.gateway.logs import get_logger
from skills.store import StoreError

CORS_MAX_AGE_S = 600
CORS_ALLOW_HEADERS = "Authorization, Content-Type"
CORS_EXPOSE_HEADERS = "Retry-After"
LOOPBACK_HOSTS = {"localhost", "::1", "ip6-localhost"}
WARN_EVERY_S = 60.0  # a store outage is logged once a minute, not once per request


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def bearer_key(headers) -> str | None:
    value = headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def check_api_key(expected: str | None, headers) -> None:
    """With ORCHESTRATOR_API_KEY set, demand `Authorization: Bearer <key>` (compared in constant time)."""
    if not expected:
        return
    given = bearer_key(headers)
    if given is None:
        raise Unauthorized(
            "this server needs an API key: send the header 'Authorization: Bearer <ORCHESTRATOR_API_KEY>'",
            field="Authorization",
            headers={"WWW-Authenticate": 'Bearer realm="orchestrator"'},
        )
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise Unauthorized(
            "the API key is wrong: send the server's ORCHESTRATOR_API_KEY as 'Authorization: Bearer <key>'",
            field="Authorization",
            headers={"WWW-Authenticate": 'Bearer realm="orchestrator", error="invalid_token"'},
        )


class Cors:
    """CORS for the origins in ALLOWED_ORIGINS; '*' allows any origin but then never credentials."""

    def __init__(self, allowed_origins: list[str]):
        self.any = "*" in allowed_origins
        self.allowed = {origin.rstrip("/") for origin in allowed_origins if origin != "*"}

    def enabled(self) -> bool:
        return self.any or bool(self.allowed)

    def headers(self, origin: str | None) -> dict:
        """Headers for an ordinary response to a request from `origin` (none if not allowed)."""
        if not self.enabled():
            return {}
        result = {"Vary": "Origin"}  # the answer differs by Origin, so caches must key on it
        if not origin:
            return result
        if origin in self.allowed:
            result["Access-Control-Allow-Origin"] = origin
            result["Access-Control-Allow-Credentials"] = "true"
        elif self.any:
            result["Access-Control-Allow-Origin"] = "*"
        else:
            return result
        result["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        return result

    def preflight(self, origin: str | None, allowed_methods: list[str]) -> dict:
        """Headers for an OPTIONS preflight; without Access-Control-Allow-Origin the browser refuses."""
        result = self.headers(origin)
        if "Access-Control-Allow-Origin" in result:
            result.pop("Access-Control-Expose-Headers", None)
            result["Access-Control-Allow-Methods"] = ", ".join(allowed_methods)
            result["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
            result["Access-Control-Max-Age"] = str(CORS_MAX_AGE_S)
        return result


class RateLimiter:
    """A token bucket per client: `per_minute` requests, refilled evenly; 0 turns it off.

    The buckets live in the store (`store.take_token`): a table on the database clock with
    PostgreSQL, so the limit holds across every replica; this process's memory with SQLite (one
    machine, one server). When the store cannot answer, the request is let through (and logged):
    an outage of the shared database must not refuse every request on top."""

    def __init__(self, per_minute: int, store_for):
        self.per_minute = per_minute
        self._store_for = store_for  # () -> Store, asked per check: the store opens when first needed
        self._last_warning = 0.0

    @staticmethod
    def client_key(headers, address: str) -> str:
        """The API key's hash when one is sent (never the key itself), else the client address."""
        key = bearer_key(headers)
        if key:
            return "key:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        return "addr:" + address

    def check(self, client: str) -> None:
        if self.per_minute <= 0:
            return
        try:
            wait_s = self._store_for().take_token(client, self.per_minute)
        except StoreError as error:
            self._warn_unlimited(error)
            return
        if wait_s <= 0:
            return
        wait = max(1, math.ceil(wait_s))
        raise RateLimited(
            f"more than {self.per_minute} requests a minute from this client: retry in {wait}s",
            headers={"Retry-After": str(wait)},
        )

    def _warn_unlimited(self, error: StoreError) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_S:
            self._last_warning = now
            get_logger().warning("Rate limit not applied: the store cannot answer | Reason: %s", error)


class InFlight:
    """At most `limit` requests doing work at once; the next gets 503 instead of a long queue."""

    def __init__(self, limit: int):
        self.limit = limit
        self.count = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            if self.limit > 0 and self.count >= self.limit:
                raise Overloaded(
                    f"{self.limit} requests are already in progress: retry in a moment",
                    headers={"Retry-After": "1"},
                )
            self.count += 1

    def leave(self) -> None:
        with self._lock:
            self.count -= 1
