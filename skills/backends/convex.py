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

The deploy key goes to CONVEX_URL's origin and nowhere else: redirects are never followed (a 3xx
is UpstreamInvalid naming where it pointed, and the key is not sent there), and plain http:// is
refused unless the host is loopback (the local double, a tunnel). A reply that is not Convex's
envelope, or whose value does not have the shape the caller declared (`expect`), is UpstreamInvalid
rather than a KeyError deep in a tool.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from skills.errors import AgentNotConfigured, BadInput, ExecutionTimeout, UpstreamInvalid, UpstreamUnavailable
from skills.redaction import mask_secret

DEFAULT_TIMEOUT_S = 15.0  # per request, when the caller gives no deadline
_CALLER_ERRORS = ("not_found", "bad_input", "invalid", "conflict")

# What a caller may declare a value to be (`expect`): a type or tuple of types, a dict of required
# keys to shapes, `{str: shape}` for an object whose every value has that shape, or a one-item list
# meaning "a list whose every item has this shape".
Shape = type | tuple | dict | list
NUMBER = (int, float)
OPTIONAL_TEXT = (str, type(None))


def query(
    settings, path: str, args: dict | None = None, *, deadline: float | None = None, expect: Shape | None = None
) -> Any:
    """Run a Convex query function and return its value (checked against `expect` when given)."""
    return call(settings, "query", path, args or {}, deadline=deadline, expect=expect)


def mutation(
    settings, path: str, args: dict | None = None, *, deadline: float | None = None, expect: Shape | None = None
) -> Any:
    """Run a Convex mutation function and return its value (checked against `expect` when given)."""
    return call(settings, "mutation", path, args or {}, deadline=deadline, expect=expect)


def call(
    settings, kind: str, path: str, args: dict, *, deadline: float | None = None, expect: Shape | None = None
) -> Any:
    """POST one function call to CONVEX_URL; the value, or the error family's member for what went wrong."""
    base = _base_url(settings)
    request = urllib.request.Request(
        f"{base}/api/{kind}",
        data=json.dumps({"path": path, "args": _without_none(args), "format": "json"}).encode(),
        headers=_headers(settings),
        method="POST",
    )
    status, body = _send(request, _timeout(deadline), base, settings.convex_deploy_key)
    value = _value(status, body, path, settings.convex_deploy_key)
    if expect is not None:
        _check_shape(value, expect, path, "the value")
    return value


def _base_url(settings) -> str:
    url = (settings.convex_url or "").strip().rstrip("/")
    if not url:
        raise AgentNotConfigured(
            "CONVEX_URL is not set: set it in .env to your deployment URL (https://<name>.convex.cloud, "
            "on the Convex dashboard's Settings page); see agents/convex-database/README.md",
            field="CONVEX_URL",
        )
    parts = urllib.parse.urlsplit(url)
    secure = parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname))
    if not secure or not parts.hostname:
        raise AgentNotConfigured(
            f"CONVEX_URL must start with https:// (got {url!r}; http:// only for a loopback host)",
            field="CONVEX_URL",
        )
    return url


def _is_loopback(host: str | None) -> bool:
    """localhost or a loopback address written out: a name that merely resolves there does not count."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would resend the Authorization header to wherever a 3xx points: hand the 3xx back instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _send(request, timeout: float, base: str, key: str | None) -> tuple[int, bytes]:
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            if 300 <= error.code < 400:
                raise _redirect_error(error.code, error.headers.get("Location"), base) from None
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


def _redirect_error(status: int, location: str | None, base: str) -> UpstreamInvalid:
    target = urllib.parse.urlsplit(urllib.parse.urljoin(base + "/", location or ""))
    where = target.netloc or "an empty Location"
    return UpstreamInvalid(
        f"Convex at {base} answered HTTP {status}, a redirect to {where}: redirects are not followed, so "
        "CONVEX_DEPLOY_KEY was not sent there; set CONVEX_URL to the deployment's own https:// URL",
        field="CONVEX_URL",
        details={"redirect_host": target.hostname or "", "status": status},
    )


def _value(status: int, raw: bytes, path: str, key: str | None) -> Any:
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("status") == "success" and status == 200:
        if "value" not in body:
            raise UpstreamInvalid(f"Convex answered {path} with success but no value: {_excerpt(raw, key)}")
        return body["value"]
    if isinstance(body, dict) and body.get("status") == "error":
        raise _function_error(body, path, key)
    if status == 200:
        raise UpstreamInvalid(
            f"Convex answered {path} with HTTP 200 but not its {{status, value}} reply: {_excerpt(raw, key)}; "
            "check that CONVEX_URL is a Convex deployment"
        )
    text = raw.decode("utf-8", "replace")[:300]
    code = body.get("code") if isinstance(body, dict) else None
    message = mask_secret(str(body.get("message", text)) if isinstance(body, dict) else text, key)
    if status in (401, 403):
        raise AgentNotConfigured(
            f"Convex rejected CONVEX_DEPLOY_KEY (HTTP {status} {code or ''}: {message}): "
            "use a deploy key for this deployment from the Convex dashboard",
            field="CONVEX_DEPLOY_KEY",
        )
    detail = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    raise UpstreamUnavailable(f"Convex could not run {path} ({detail})")


def _excerpt(raw: bytes, key: str | None) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return repr(mask_secret(text[:120] + ("…" if len(text) > 120 else ""), key)) if text else "an empty body"


def _check_shape(value: Any, shape: Shape, path: str, where: str) -> None:
    """Raise UpstreamInvalid naming the first place `value` differs from `shape`."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise _shape_error(path, where, "an object", value)
        if list(shape) == [str]:
            for name, item in value.items():
                _check_shape(item, shape[str], path, f"{where}.{name}")
            return
        for name, inner in shape.items():
            if name not in value:
                raise UpstreamInvalid(f"Convex function {path} answered without {where}.{name}: {_deploy_hint()}")
            _check_shape(value[name], inner, path, f"{where}.{name}")
    elif isinstance(shape, list):
        if not isinstance(value, list):
            raise _shape_error(path, where, "a list", value)
        for index, item in enumerate(value):
            _check_shape(item, shape[0], path, f"{where}[{index}]")
    elif isinstance(value, bool) and bool not in (shape if isinstance(shape, tuple) else (shape,)):
        raise _shape_error(path, where, _type_names(shape), value)  # True is an int to isinstance
    elif not isinstance(value, shape):
        raise _shape_error(path, where, _type_names(shape), value)


def _shape_error(path: str, where: str, wanted: str, value: Any) -> UpstreamInvalid:
    got = "null" if value is None else type(value).__name__
    return UpstreamInvalid(f"Convex function {path} answered {where} as {got}, not {wanted}: {_deploy_hint()}")


def _type_names(shape: type | tuple) -> str:
    names = {"str": "text", "int": "a number", "float": "a number", "NoneType": "null", "dict": "an object"}
    kinds = shape if isinstance(shape, tuple) else (shape,)
    return " or ".join(dict.fromkeys(names.get(kind.__name__, kind.__name__) for kind in kinds))


def _deploy_hint() -> str:
    return "the deployment does not run agents/convex-database/convex as documented (see its README.md)"


def _function_error(body: dict, path: str, key: str | None):
    data = body.get("errorData") if isinstance(body.get("errorData"), dict) else {}
    message = mask_secret(str(data.get("message") or _first_line(str(body.get("errorMessage") or ""))), key)
    if data.get("code") in _CALLER_ERRORS:
        field = data.get("field")
        return BadInput(message, field=field if isinstance(field, str) else None)
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
