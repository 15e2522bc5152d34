"""The listening socket: a thread per connection (skills/server/app.py's Handler), and a cap on them.

Each open connection holds a thread, idle keep-alive and WebSockets included, so threads are
bounded by ORCHESTRATOR_MAX_CONNECTIONS: past it the accepting thread answers 503 itself,
without starting one, and closes.
"""

from __future__ import annotations

import json
import socket
from http.server import ThreadingHTTPServer

from skills import errors
from skills.gateway.guards import InFlight
from skills.server.app import App, Handler

BUSY_DRAIN_BYTES = 64 * 1024  # what a connection refused for the cap may already have sent, read and dropped


def busy_reply(error: errors.OrchestratorError) -> bytes:
    """A whole HTTP answer for a refusal made before any handler exists (the connection cap)."""
    body = json.dumps(error.to_json()).encode("utf-8")
    head = [f"HTTP/1.1 {error.http_status} Service Unavailable", "Content-Type: application/json"]
    head += [f"Content-Length: {len(body)}", "Cache-Control: no-store", "Connection: close"]
    head += [f"{name}: {value}" for name, value in error.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class OrchestratorHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most ORCHESTRATOR_MAX_CONNECTIONS of them (idle keep-alive and WebSockets count)."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self.connections = InFlight(app.settings.max_connections, "connections are already open")
        super().__init__(address, Handler)

    def process_request(self, request, client_address) -> None:
        try:
            self.connections.enter()
        except errors.Overloaded as error:
            self._refuse_busy(request, error)
            return
        try:
            super().process_request(request, client_address)  # starts the connection's thread
        except BaseException:
            self.connections.leave()  # no thread started: nobody else will give the place back
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.leave()

    def _refuse_busy(self, request: socket.socket, error: errors.Overloaded) -> None:
        """503 on the accepting thread, which must never wait: what the client has sent is read without
        blocking (so closing sends FIN, not RST over the answer), the short answer fits the send buffer."""
        try:
            request.setblocking(False)
            drained = 0
            try:
                while drained < BUSY_DRAIN_BYTES and (chunk := request.recv(65536)):
                    drained += len(chunk)
            except BlockingIOError:
                pass  # nothing more has arrived yet
            request.sendall(busy_reply(error))
            request.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the client is gone or its buffer is full: the close below is all it gets
        finally:
            request.close()

    def server_close(self):
        super().server_close()
        self.app.service.close(grace_s=self.app.settings.shutdown_grace_s)
