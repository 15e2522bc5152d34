"""The HTTP side of the API: routing table, request parsing, auth, CORS, rate limit, replies.

Built on the standard library's ThreadingHTTPServer; every answer is JSON (the page, the
metrics and the WebSocket upgrade aside), every refusal {"error", "code", "field"}. What an
endpoint actually does lives in skills/gateway/service.py, which runs the bin/ scripts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

from skills import contracts, errors
from skills.gateway import validation
from skills.gateway.guards import Cors, InFlight, RateLimiter, check_api_key
from skills.gateway.logs import get_logger
from skills.gateway.metrics import Metrics
from skills.gateway.service import Reply, Service
from skills.server import sse
from skills.server.proxies import TrustedProxies
from skills.store import open_store

MAX_BODY = 256 * 1024  # bytes; 50 tasks of 5,000 characters fit with room to spare
SOCKET_TIMEOUT_S = 30.0  # a client that sends nothing for this long loses its connection
WEBSOCKET_IDLE_S = 600.0


def _inline_hashes(page: bytes, tag: bytes) -> list[str]:
    """CSP source expressions for each inline <tag>...</tag> block of the page."""
    hashes, start = [], 0
    while (opening := page.find(b"<" + tag, start)) != -1:
        body_start = page.index(b">", opening) + 1
        body_end = page.index(b"</" + tag + b">", body_start)
        digest = base64.b64encode(hashlib.sha256(page[body_start:body_end]).digest()).decode("ascii")
        hashes.append(f"'sha256-{digest}'")
        start = body_end
    return hashes


def page_security_policy(page: bytes) -> str:
    """Only the page's own inline script and style may run, and it may talk only to this server."""
    scripts = " ".join(_inline_hashes(page, b"script")) or "'none'"
    styles = " ".join(_inline_hashes(page, b"style")) or "'none'"
    return (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


PAGE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page.html")
PLACEHOLDER_PAGE = (
    "<!doctype html><meta charset=utf-8><title>FibreFlow Orchestrator</title>"
    "<p>The FibreFlow Orchestrator API is running. See <a href=/openapi.json>/openapi.json</a>.</p>"
)

# template -> {method: handler name}; the templates are what /openapi.json describes.
STATIC_ROUTES = {
    "/": {"GET": "page"},
    "/health": {"GET": "health"},
    "/metrics": {"GET": "metrics"},
    "/openapi.json": {"GET": "openapi"},
    "/ws/orchestrator": {"GET": "websocket"},
    "/orchestrator/route": {"POST": "route"},
    "/orchestrator/execute": {"POST": "execute"},
    "/orchestrator/smart-execute": {"POST": "smart_execute"},
    "/orchestrator/execute-async": {"POST": "execute_async"},
    "/orchestrator/batch": {"POST": "batch"},
    "/orchestrator/feedback": {"POST": "feedback"},
    "/orchestrator/agents": {"GET": "agents"},
    "/orchestrator/stats": {"GET": "stats"},
    "/orchestrator/executions": {"GET": "executions"},
}
PARAM_ROUTES = {  # prefix -> (template, {method: handler name})
    "/orchestrator/agents/": ("/orchestrator/agents/{agent_id}", {"GET": "agent_info"}),
    "/orchestrator/tasks/": ("/orchestrator/tasks/{task_id}", {"GET": "task"}),
    "/orchestrator/executions/": ("/orchestrator/executions/{execution_id}", {"GET": "execution"}),
}
PUBLIC = {"/", "/health"}  # no API key: the page holds no data, and probes must reach /health
NOT_COUNTED = {"/", "/health", "/metrics", "/openapi.json", "/ws/orchestrator"}  # outside the in-flight cap


def route_table() -> set[tuple[str, str]]:
    """(METHOD, template) pairs the server answers; tests compare them with /openapi.json."""
    pairs = {(m, t) for t, methods in STATIC_ROUTES.items() for m in methods}
    pairs |= {(m, t) for t, methods in PARAM_ROUTES.values() for m in methods}
    return pairs


def resolve(path: str) -> tuple[str | None, dict, str | None]:
    """(template, {method: handler}, path parameter) for a request path; (None, {}, None) if unknown."""
    if path in STATIC_ROUTES:
        return path, STATIC_ROUTES[path], None
    for prefix, (template, methods) in PARAM_ROUTES.items():
        if path.startswith(prefix):
            param = unquote(path[len(prefix) :])
            if param and "/" not in param:
                return template, methods, param
    return None, {}, None


class App:
    """Everything a request handler needs, built once per server."""

    def __init__(self, settings, service: Service | None = None):
        self.settings = settings
        self.proxies = TrustedProxies(settings.trusted_proxies)  # first: a bad setting refuses before workers start
        self.metrics = service.metrics if service else Metrics()
        self.service = service or Service(settings, self.metrics)
        self.cors = Cors(settings.allowed_origins)
        self.limiter = RateLimiter(settings.rate_limit_per_minute, lambda: open_store(settings))
        self.in_flight = InFlight(settings.max_in_flight)
        self.log = get_logger()
        self._spec = None

    def openapi(self) -> dict:
        if self._spec is None:
            from skills.server.openapi import build_spec  # lazy: only paid for when someone asks

            self._spec = build_spec(api_key_required=bool(self.settings.api_key))
        return self._spec


class Handler(BaseHTTPRequestHandler):
    server_version = "FibreFlowOrchestrator/0.1"
    sys_version = ""
    protocol_version = "HTTP/1.1"  # keep-alive: a client reuses its connection
    timeout = SOCKET_TIMEOUT_S
    disable_nagle_algorithm = True  # headers and body are separate writes: Nagle + delayed ACK would add 40 ms

    @property
    def app(self) -> App:
        return self.server.app

    # --- entry points --------------------------------------------------------------------

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_OPTIONS(self):
        self._dispatch("OPTIONS")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def __getattr__(self, name: str):
        """Any other method (TRACE, CONNECT, ...) gets the same 404/405 answer, not http.server's 501."""
        method = name[3:]
        if name.startswith("do_") and method.isalpha() and method.isupper() and len(method) <= 20:
            return lambda: self._dispatch(method)
        raise AttributeError(name)

    def _dispatch(self, method: str) -> None:
        started = time.perf_counter()
        path, _, query = self.path.partition("?")
        template, methods, param = resolve(path)
        self._status = 500
        self._body_read = False
        self._cors = {}
        try:
            self._cors = self.app.cors.headers(self.headers.get("Origin"))
            if method == "OPTIONS":
                return self._preflight(template, methods)
            self._handle(method, template, methods, param, query)
        except errors.OrchestratorError as error:
            self._send_error(error)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client left; nobody to answer
        except Exception:
            self.log_error("unhandled error on %s %s", method, template or "unmatched")
            self.app.log.exception("Unhandled error answering %s %s", method, template or "unmatched")
            self._send_error(errors.OrchestratorError("the server failed on this request; see its log"))
        finally:
            elapsed = time.perf_counter() - started
            self.app.metrics.observe_request(template or "unmatched", method, self._status, elapsed)

    def _handle(self, method: str, template: str | None, methods: dict, param: str | None, query: str) -> None:
        app = self.app
        if template not in PUBLIC:
            check_api_key(app.settings.api_key, self.headers)  # before 404: strangers learn nothing
        client = app.proxies.client_address(self.client_address[0], self.headers.get_all("X-Forwarded-For"))
        app.limiter.check(app.limiter.client_key(self.headers, client))
        if template is None:
            raise errors.NoEndpoint(f"no endpoint at {self._safe_path()}: GET /openapi.json lists them")
        name = methods.get("GET" if method == "HEAD" else method)
        if name is None:
            allowed = ", ".join(sorted(methods) + ["OPTIONS"])
            message = f"{method} is not allowed on {template}; use {allowed}"
            raise errors.MethodNotAllowed(message, field="method", headers={"Allow": allowed})
        counted = template not in NOT_COUNTED
        if counted:
            app.in_flight.enter()
            app.metrics.add_in_flight(1)
        try:
            reply = getattr(self, "_ep_" + name)(param=param, query=parse_qs(query, keep_blank_values=True))
        finally:
            if counted:
                app.in_flight.leave()
                app.metrics.add_in_flight(-1)
        if reply is not None:
            self._send(reply.status, reply.body, reply.headers)

    def _safe_path(self) -> str:
        path = self.path.partition("?")[0]
        return path[:100] + ("..." if len(path) > 100 else "")

    # --- request bodies ------------------------------------------------------------------

    def _read_body(self) -> bytes:
        encoding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if encoding == "chunked":
            return self._read_chunked()
        if encoding:
            self.close_connection = True
            raise errors.LengthRequired("send the body with Content-Length (or chunked)")
        raw_length = self.headers.get("Content-Length") or "0"
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise errors.BadRequest("Content-Length must be a whole number of bytes") from None
        if length > MAX_BODY:
            self.close_connection = True  # we will not read it, so the connection cannot be reused
            raise errors.BodyTooLarge(f"the body is {length} bytes; the limit is {MAX_BODY}")
        body = self.rfile.read(length) if length else b""
        self._body_read = True
        return body

    def _read_chunked(self) -> bytes:
        """A chunked body (RFC 9112 section 7.1), refused with 413 once it passes MAX_BODY."""
        self._body_read = True
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise errors.BadRequest("malformed chunked body: send Content-Length instead") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers: nothing we use
                return bytes(body)
            if len(body) + size > MAX_BODY:
                self.close_connection = True
                raise errors.BodyTooLarge(f"the body is over the limit of {MAX_BODY} bytes")
            body += self.rfile.read(size)
            self.rfile.readline(8)  # the CRLF after each chunk

    def _json_body(self):
        raw = self._read_body()
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            message = "send the body as JSON with the header 'Content-Type: application/json'"
            raise errors.UnsupportedMediaType(message, field="Content-Type")
        if not raw.strip():
            raise errors.BadJson("the request body is empty: send a JSON object", field="body")
        return validation.parse_json(raw)

    # --- endpoints -----------------------------------------------------------------------

    def _ep_route(self, **_) -> Reply:
        return self.app.service.route(validation.check(self._json_body(), contracts.ROUTE))

    def _ep_execute(self, **_) -> Reply | None:
        return self._answer_or_stream(self.app.service.execute, validation.check(self._json_body(), contracts.EXECUTE))

    def _ep_smart_execute(self, **_) -> Reply | None:
        fields = validation.check(self._json_body(), contracts.SMART_EXECUTE)
        return self._answer_or_stream(self.app.service.smart_execute, fields)

    def _answer_or_stream(self, run, fields: dict) -> Reply | None:
        """`run(fields)`'s reply; with `Accept: text/event-stream`, its steps as server-sent events
        ending in that same reply (skills/server/sse.py). The request is already authorised,
        rate-limited and validated: its refusals stay ordinary JSON answers."""
        if not sse.wants_events(self.headers.get("Accept")):
            return run(fields)
        stream = sse.EventStream(self.wfile, {"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        stream.open(self._send_stream_head)
        try:
            reply = run(fields, on_event=stream.send)
        except Exception:  # the head is sent: the failure can only be the stream's last event
            self.app.log.exception("Unhandled error in a streamed %s", self._safe_path())
            failure = errors.OrchestratorError("the server failed on this request; see its log")
            stream.finish(failure.http_status, failure.to_json())
            return None
        stream.finish(reply.status, reply.body)
        return None

    def _ep_execute_async(self, **_) -> Reply:
        kind, fields = validation.check_async(self._json_body())
        return self.app.service.submit(kind, fields)

    def _ep_batch(self, **_) -> Reply:
        return self.app.service.batch(validation.check_batch(self._json_body()))

    def _ep_feedback(self, **_) -> Reply:
        return self.app.service.feedback(validation.check_feedback(self._json_body()))

    def _ep_task(self, param: str, **_) -> Reply:
        return self.app.service.task(param)

    def _ep_agents(self, query: dict, **_) -> Reply:
        return self.app.service.list_agents(
            validation.check_query_text(contracts.LIST_AGENTS.field("category"), query.get("category", []))
        )

    def _ep_agent_info(self, param: str, **_) -> Reply:
        if len(param) > contracts.AGENT_INFO.field("agent").max_len:
            raise errors.AgentNotFound("no agent has an id that long: GET /orchestrator/agents lists them")
        return self.app.service.agent_info(param)

    def _ep_stats(self, query: dict, **_) -> Reply:
        return self.app.service.stats(
            validation.check_query_text(contracts.WORKFORCE_STATS.field("since"), query.get("since", []))
        )

    def _ep_executions(self, query: dict, **_) -> Reply:
        return self.app.service.executions(validation.check_history_query(query))

    def _ep_execution(self, param: str, **_) -> Reply:
        return self.app.service.execution(param)

    def _ep_health(self, **_) -> Reply:
        return self.app.service.health()

    def _ep_metrics(self, **_) -> None:
        self.app.service.refresh_ledger_gauges()
        self._send(200, self.app.metrics.render().encode("utf-8"), content_type="text/plain; version=0.0.4")

    def _ep_openapi(self, **_) -> Reply:
        return Reply(200, self.app.openapi())

    def _ep_page(self, **_) -> None:
        try:
            with open(PAGE_PATH, "rb") as handle:
                page = handle.read()
        except OSError:
            page = PLACEHOLDER_PAGE.encode("utf-8")
        headers = {
            "X-Frame-Options": "DENY",
            "Cache-Control": "no-cache",
            "Content-Security-Policy": page_security_policy(page),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        self._send(200, page, headers, content_type="text/html; charset=utf-8")

    def _ep_websocket(self, query: dict, **_) -> None:
        from skills.server import websocket  # lazy: most servers never see a WebSocket

        with_events = validation.check_query_flag("events", query.get("events", [])) or False
        self._status = 101
        self.connection.settimeout(WEBSOCKET_IDLE_S)
        try:
            # the handshake's status (101, or the refusal's) is what /metrics should count
            self._status = websocket.serve(
                self,
                self.app.service.on_websocket_text,
                allowed_origins=self.app.settings.allowed_origins,
                with_events=with_events,
            )
        except Exception:  # serve() has closed the socket with 1011; an HTTP reply now would be noise
            self.app.log.exception("WebSocket connection failed")
        self.close_connection = True

    # --- answers -------------------------------------------------------------------------

    def _preflight(self, template: str | None, methods: dict) -> None:
        if template is None:
            raise errors.NoEndpoint(f"no endpoint at {self._safe_path()}: GET /openapi.json lists them")
        allowed = sorted(methods) + ["OPTIONS"]
        headers = self.app.cors.preflight(self.headers.get("Origin"), allowed)
        headers["Allow"] = ", ".join(allowed)
        self._cors = {}  # preflight() already chose the CORS headers
        self._send(204, None, headers)

    def _send_error(self, error: errors.OrchestratorError) -> None:
        if error.http_status >= 500:
            self.app.log.warning("Answered %d %s | Path: %s", error.http_status, error.code, self._safe_path())
        self._send(error.http_status, error.to_json(), error.headers)

    def _send(self, status: int, body, headers: dict | None = None, *, content_type: str = "application/json") -> None:
        if not self._body_read and not self.close_connection:  # any method may carry a body
            self._drain_body()
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            # backslashreplace: a lone surrogate echoed back becomes "\ud800", the same JSON escape
            data = json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace")
        self._status = status
        self.send_response(status)
        for name, value in {**self._cors, **(headers or {})}.items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        if content_type == "application/json":
            self.send_header("Cache-Control", "no-store")
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":  # it asked for keep-alive; without this it waits for us to close
            self.send_header("Connection", "keep-alive")
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(data)

    def _send_stream_head(self, status: int, headers: dict) -> None:
        """The head of a response whose body is written as it happens and ends when the connection does."""
        self._status = status
        self.close_connection = True
        self.send_response(status)
        for name, value in {**self._cors, **headers}.items():
            self.send_header(name, value)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

    def _drain_body(self) -> None:
        """Read an unread request body so the kept-alive connection stays in step (or close it)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if self.headers.get("Transfer-Encoding") or not 0 <= length <= MAX_BODY:  # not worth decoding to discard
            self.close_connection = True
        elif length:
            self.rfile.read(length)
        self._body_read = True

    def send_error(self, code, message=None, explain=None):
        """http.server's own refusals (bad request line, header too long) as JSON too."""
        self.close_connection = True
        self._cors, self._body_read = {}, True
        self._send(code, {"error": message or self.responses.get(code, ("error",))[0], "code": f"http_{code}"})

    def log_message(self, format, *args):
        """No access log: request lines can carry query strings, and the guide's log has none."""

    def log_error(self, format, *args):
        get_logger().warning("HTTP: %s", (format % args)[:300])


class OrchestratorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        super().__init__(address, Handler)

    def server_close(self):
        super().server_close()
        self.app.service.close(grace_s=self.app.settings.shutdown_grace_s)
