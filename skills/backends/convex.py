"""A small client for Convex's documented HTTP API (stdlib urllib only).

    POST {CONVEX_URL}/api/query | /api/mutation
    {"path": "tasks:list", "args": {...}, "format": "json"}
    Authorization: Convex <deploy key>          (when CONVEX_DEPLOY_KEY is set)

Convex answers {"status": "success", "value": ...} or {"status": "error", "errorMessage": ...,
"errorData": ...}; a function that throws comes back with HTTP 560 and the error shape, other
failures (bad key, bad request) as 4xx with {"code": ..., "message": ...}.

A function that throws `ConvexError({code: "not_found" | "bad_input", message, field})` is the
caller's mistake and becomes BadInput; any other function error is UpstreamUnavailable. The
deploy key is never put in a message.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any

from skills.errors import AgentNotConfigured, BadInput, ExecutionTimeout, UpstreamUnavailable
from skills.redaction import mask_secret

DEFAULT_TIMEOUT_S = 15.0  # per request, when the caller gives no deadline
_CALLER_ERRORS = ("not_found", "bad_input", "invalid", "conflict")


def query(settings, path: str, args: dict | None = None, *, deadline: float | None = None) -> Any:
    """Run a Convex query function and return its value."""
    return call(settings, "query", path, args or {}, deadline=deadline)


def mutation(settings, path: str, args: dict | None = None, *, deadline: float | None = None) -> Any:
    """Run a Convex mutation function and return its value."""
    return call(settings, "mutation", path, args or {}, deadline=deadline)


def call(settings, kind: str, path: str, args: dict, *, deadline: float | None = None) -> Any:
    base = _base_url(settings)
    request = urllib.request.Request(
        f"{base}/api/{kind}",
        data=json.dumps({"path": path, "args": _without_none(args), "format": "json"}).encode(),
        headers=_headers(settings),
        method="POST",
    )
    status, body = _send(request, _timeout(deadline), base, settings.convex_deploy_key)
    return _value(status, body, path, settings.convex_deploy_key)


def _base_url(settings) -> str:
    url = (settings.convex_url or "").strip().rstrip("/")
    if not url:
        raise AgentNotConfigured(
            "CONVEX_URL is not set: set it in .env to your deployment URL (https://<name>.convex.cloud, "
            "on the Convex dashboard's Settings page); see agents/convex-database/README.md",
            field="CONVEX_URL",
        )
    if not url.startswith(("http://", "https://")):
        raise AgentNotConfigured(f"CONVEX_URL must start with https:// (got {url!r})", field="CONVEX_URL")
    return url


def _headers(settings) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.convex_deploy_key:
        headers["Authorization"] = f"Convex {settings.convex_deploy_key}"
    return headers


def _without_none(args: dict) -> dict:
    """Convex validators treat a missing optional argument and null differently: send only set ones."""
    return {k: v for k, v in args.items() if v is not None}


def _timeout(deadline: float | None) -> float:
    if deadline is None:
        return DEFAULT_TIMEOUT_S
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ExecutionTimeout("the agent ran out of time before calling Convex")
    return min(remaining, DEFAULT_TIMEOUT_S)


def _send(request, timeout: float, base: str, key: str | None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()
    except TimeoutError:
        raise ExecutionTimeout(f"Convex at {base} did not answer within {timeout:.1f}s") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, (TimeoutError, socket.timeout)):
            raise ExecutionTimeout(f"Convex at {base} did not answer within {timeout:.1f}s") from None
        reason = mask_secret(str(error.reason), key)
        raise UpstreamUnavailable(f"could not reach Convex at {base}: {reason}; check CONVEX_URL") from None
    except OSError as error:  # connection reset mid-response and the like
        raise UpstreamUnavailable(f"Convex at {base} dropped the connection: {mask_secret(str(error), key)}") from None


def _value(status: int, raw: bytes, path: str, key: str | None) -> Any:
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("status") == "success" and status == 200:
        return body.get("value")
    if isinstance(body, dict) and body.get("status") == "error":
        raise _function_error(body, path, key)
    text = raw.decode("utf-8", "replace")[:300]
    code = body.get("code") if isinstance(body, dict) else None
    message = mask_secret(body.get("message", text) if isinstance(body, dict) else text, key)
    if status in (401, 403):
        raise AgentNotConfigured(
            f"Convex rejected CONVEX_DEPLOY_KEY (HTTP {status} {code or ''}: {message}): "
            "use a deploy key for this deployment from the Convex dashboard",
            field="CONVEX_DEPLOY_KEY",
        )
    detail = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    raise UpstreamUnavailable(f"Convex could not run {path} ({detail})")


def _function_error(body: dict, path: str, key: str | None):
    data = body.get("errorData") if isinstance(body.get("errorData"), dict) else {}
    message = mask_secret(str(data.get("message") or _first_line(body.get("errorMessage") or "")), key)
    if data.get("code") in _CALLER_ERRORS:
        return BadInput(message, field=data.get("field"))
    if "Could not find public function" in message:
        return AgentNotConfigured(
            f"the Convex deployment has no function {path}: deploy agents/convex-database/convex "
            "(see agents/convex-database/README.md)",
            field="CONVEX_URL",
        )
    return UpstreamUnavailable(f"Convex function {path} failed: {message}")


def _first_line(message: str) -> str:
    """The useful line of a Convex error ("[Request ID: ..] Server Error\\nUncaught Error: boom\\n    at ...")."""
    for line in message.splitlines():
        line = line.strip()
        if line.startswith("[Request ID:"):
            line = line.split("]", 1)[1].strip()
        if line and line != "Server Error":
            return line.removeprefix("Uncaught ").removeprefix("ConvexError: ").removeprefix("Error: ")
    return "no error message"
