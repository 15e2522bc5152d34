"""The gate in front of the streamable HTTP transport: Host, Origin, API key and CORS, as ASGI middleware.

The MCP specification asks servers to validate `Origin` (a web page on another site, reaching a
loopback server through DNS rebinding, must be refused). The check is the HTTP API's own
(skills/gateway/guards.py `Sites`): Host must be loopback, an IP address or one of
ORCHESTRATOR_ALLOWED_HOSTS (else 421), and a request that carries an Origin must name one in
ALLOWED_ORIGINS ('*' allows any) or the server's own, else 403. Requests without Origin (desktop
clients, Claude Code, scripts) pass. With ORCHESTRATOR_API_KEY set, every request needs
`Authorization: Bearer <key>` (401 otherwise), checked by the HTTP API's own guard. Browsers at an
allowed origin get CORS headers, and their preflight is answered here (it carries no key).
Refusals are the orchestrator's JSON errors: {"error", "code", "field"}.
"""

from __future__ import annotations

import json

from skills.errors import OrchestratorError
from skills.gateway.guards import Sites, check_api_key

CORS_ALLOW_HEADERS = "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID"
CORS_EXPOSE_HEADERS = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate"
CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_MAX_AGE_S = "600"


class _Headers:
    """Case-insensitive lookup over ASGI's raw header pairs (what check_api_key needs)."""

    def __init__(self, raw: list[tuple[bytes, bytes]]):
        self._values = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}

    def get(self, name: str, default=None):
        return self._values.get(name.lower(), default)


class Guard:
    """Wraps the SDK's Starlette app; every HTTP request passes Host and Origin, then the API key."""

    def __init__(self, app, api_key: str | None, allowed_origins: list[str], allowed_hosts: list[str] = ()):
        self.app = app
        self.api_key = api_key
        self.allowed_origins = allowed_origins
        self.sites = Sites(list(allowed_hosts), allowed_origins)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = _Headers(scope.get("headers", []))
        origin = headers.get("origin")
        try:
            self.sites.check(headers.get("host"), origin)
            cors = self._cors_headers(origin)
            if scope["method"] == "OPTIONS" and cors:
                return await respond_json(send, 204, None, {**cors, **self._preflight_headers()})
            check_api_key(self.api_key, headers)
        except OrchestratorError as error:
            return await respond_json(send, error.http_status, error.to_json(), error.headers)
        if not cors:
            return await self.app(scope, receive, send)

        async def send_with_cors(message):
            if message["type"] == "http.response.start":
                extra = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in cors.items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _cors_headers(self, origin: str | None) -> dict:
        if origin is None:
            return {}
        return {
            "Access-Control-Allow-Origin": origin if "*" not in self.allowed_origins else "*",
            "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
            "Vary": "Origin",
        }

    @staticmethod
    def _preflight_headers() -> dict:
        return {
            "Access-Control-Allow-Methods": CORS_METHODS,
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": CORS_MAX_AGE_S,
        }


async def respond_json(send, status: int, body: dict | None, headers: dict | None = None) -> None:
    """A whole ASGI response: `body` as JSON (none for 204)."""
    payload = b"" if body is None else json.dumps(body).encode("utf-8")
    raw = [(b"content-length", str(len(payload)).encode("ascii"))]
    if body is not None:
        raw.append((b"content-type", b"application/json"))
    raw += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
