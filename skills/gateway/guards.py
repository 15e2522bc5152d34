"""The server's gatekeeping: Host and Origin, API key, CORS, rate limit, and the cap on requests in flight.

Each check either passes or raises an error of skills/errors.py with the status and JSON a client can act on.
The HTTP API (skills/server/app.py, its WebSocket too) and MCP over HTTP (skills/mcp/http.py) use the same ones.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import threading
import time
from urllib.parse import urlsplit

from skills.errors import HostNotAllowed, OriginNotAllowed, Overloaded, RateLimited, Unauthorized
from skills.gateway.logs import get_logger
from skills.store import StoreError

CORS_MAX_AGE_S = 600
CORS_ALLOW_HEADERS = "Authorization, Content-Type"
CORS_EXPOSE_HEADERS = "Retry-After"
LOOPBACK_HOSTS = {"localhost", "::1", "ip6-localhost"}
WARN_EVERY_S = 60.0  # a store outage is logged once a minute, not once per request
MAX_SHOWN = 200  # characters of a refused Host or Origin echoed in the error


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def host_name(host: str) -> str:
    """The name in a Host header, lower-cased, without port or trailing dot ("[::1]:8001" is "::1")."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Sites:
    """Which Host and Origin a request may carry: the defence against DNS rebinding.

    A page on evil.example whose name is re-pointed at 127.0.0.1 talks to a loopback server as its
    own origin: CORS never applies, and its Origin matches its Host. What gives it away is the name,
    so Host must be loopback (localhost, *.localhost), an IP address (a rebinding needs a name), or
    one of ORCHESTRATOR_ALLOWED_HOSTS ('*' turns the check off). A request without Host (HTTP/1.0,
    never a browser) passes. Then an Origin, when sent, must be in ALLOWED_ORIGINS ('*': any) or be
    the server's own (its host:port is the request's Host, which has just been checked).
    """

    def __init__(self, allowed_hosts: list[str], allowed_origins: list[str]):
        self.any_host = "*" in allowed_hosts
        self.hosts = {host_name(h) for h in allowed_hosts if h != "*"}
        self.any_origin = "*" in allowed_origins
        self.origins = {o.rstrip("/") for o in allowed_origins if o != "*"}

    def host_allowed(self, host: str) -> bool:
        name = host_name(host)
        if self.any_host or name in LOOPBACK_HOSTS or name.endswith(".localhost") or name in self.hosts:
            return True
        return _is_address(name)

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        if origin is None or self.any_origin or origin.rstrip("/") in self.origins:
            return True
        try:
            netloc = urlsplit(origin).netloc.lower()
        except ValueError:  # "http://[::1" and the like
            return False
        return bool(netloc) and netloc == (host or "").strip().lower()

    def check(self, host: str | None, origin: str | None) -> None:
        """Raise HostNotAllowed (421) or OriginNotAllowed (403) unless both pass."""
        if host and not self.host_allowed(host):
            raise HostNotAllowed(
                f"requests for host {host[:MAX_SHOWN]!r} are refused: if this server is reached by that name, "
                "add it to ORCHESTRATOR_ALLOWED_HOSTS (a name the server does not know is how DNS rebinding "
                "reaches a loopback server)",
                field="Host",
            )
        if not self.origin_allowed(origin, host):
            hint = (
                "add it to ALLOWED_ORIGINS"
                if self.origins or self.any_origin
                else "ALLOWED_ORIGINS is empty, so only the server's own page may call it from a browser"
            )
            raise OriginNotAllowed(f"requests from origin {origin[:MAX_SHOWN]!r} are refused: {hint}", field="Origin")


def bearer_key(headers) -> str | None:
    value = headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def key_matches(expected: str, given: str | None) -> bool:
    """Whether a bearer token is the configured key, compared in constant time."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


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
    if not key_matches(expected, given):
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
    def client_key(expected_key: str | None, headers, address: str) -> str:
        """The bucket a request takes its token from, chosen before the key is checked (so wrong keys are throttled).

        Only the configured key counts: any other bearer, made up or wrong, falls in its address's bucket,
        as no key does, so it cannot buy a fresh bucket per request. With the key a client still has a
        bucket per address (the key is shared by every user of a web UI: one bucket would let one
        client spend everyone's), named by the key's hash, never the key itself.
        """
        if expected_key and key_matches(expected_key, bearer_key(headers)):
            return "key:" + hashlib.sha256(expected_key.encode("utf-8")).hexdigest()[:16] + "@" + address
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
    """At most `limit` requests doing work at once (or connections open); the next gets 503, not a long queue."""

    def __init__(self, limit: int, what: str = "requests are already in progress"):
        self.limit = limit
        self.what = what
        self.count = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            if self.limit > 0 and self.count >= self.limit:
                raise Overloaded(f"{self.limit} {self.what}: retry in a moment", headers={"Retry-After": "1"})
            self.count += 1

    def leave(self) -> None:
        with self._lock:
            self.count -= 1
