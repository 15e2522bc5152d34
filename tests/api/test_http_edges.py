"""The server's edges against the running server over raw sockets (issue 21): bytes bounded
(chunk sizes, the 413 a client still writing can read, a cap on open connections), the rate
limit taken before the API key, and the Host/Origin allow-list against DNS rebinding."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest
import requests

from tests.fixtures.http_server import start_server
from tests.fixtures.raw_http import RawConnection, request_bytes

JSON = {"Content-Type": "application/json"}
TASK = b'{"task": "Check CPU usage on the server"}'
MAX_BODY = 256 * 1024
REBIND = {"Host": "rebind.evil.example", "Origin": "http://rebind.evil.example"}
WS_UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(str(tmp_path_factory.mktemp("edges-state")), ORCHESTRATOR_ALLOWED_HOSTS="api.example.com")
    yield running
    running.stop()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))


def chunked_head(path: str = "/orchestrator/route", headers: dict | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", "Transfer-Encoding: chunked"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def raw_request(port: int, method: str, path: str, headers: dict, body: bytes = b""):
    """One request with exactly these headers (no Host added), its answer."""
    lines = [f"{method} {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    with RawConnection(port, timeout=30) as conn:
        conn.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return conn.read_reply()


# --- chunked bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize("size_line", [b"-1", b"-0", b"+10", b"0x10", b"1_0", b"123456789", b"zz", b"", b"1 2"])
def test_a_chunk_size_that_is_not_hex_digits_is_400_at_once_naming_the_body(server, size_line):
    with RawConnection(server.port, timeout=10) as conn:  # the old server read -1 as "until the client closes"
        conn.send(chunked_head() + size_line + b"\r\n" + b"x" * 4096)
        reply = conn.read_reply()
        assert reply.status == 400, reply.body
        assert reply.json["code"] == "bad_request" and reply.json["field"] == "body"
        assert "chunk size" in reply.json["error"] and reply.headers["connection"] == "close"


def test_a_chunk_longer_than_its_size_is_400_not_read_as_the_next_request(server):
    with RawConnection(server.port, timeout=10) as conn:
        conn.send(chunked_head() + b"4\r\n" + TASK + b"\r\n0\r\n\r\n")
        reply = conn.read_reply()
        assert reply.status == 400 and reply.json["field"] == "body" and "CRLF" in reply.json["error"]
        assert conn.closed_by_server()


def test_a_negative_chunk_size_followed_by_a_flood_costs_the_server_no_memory(server):
    before = rss_kib(server.proc.pid)
    sent = 0
    with RawConnection(server.port, timeout=10) as conn:
        conn.send(chunked_head() + b"-1\r\n")
        started = time.monotonic()
        try:
            while sent < 200 * 1024 * 1024 and time.monotonic() - started < 20:
                conn.send(b"x" * (1 << 20))
                sent += 1 << 20
        except OSError:
            pass  # the server stopped reading: what it must do
        reply = conn.read_reply()
    assert reply.status == 400 and reply.json["field"] == "body"
    assert sent < 100 * 1024 * 1024  # it stopped reading after at most its linger budget, plus socket buffers
    assert rss_kib(server.proc.pid) - before < 32 * 1024  # the server grew by 300 MB on 300 MB sent


# --- the 413 a client still writing can read -----------------------------------------------------


def test_http_client_sending_a_too_large_body_in_one_write_reads_the_413(server):
    body = json.dumps({"task": "cpu", "context": {"blob": "x" * (4 * 1024 * 1024)}}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", "/orchestrator/route", body=body, headers=JSON)  # the whole body, then it reads
        response = conn.getresponse()
        answer = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 413 and answer["code"] == "body_too_large"
    assert response.getheader("Connection") == "close"


def test_a_chunked_body_over_the_limit_is_413_and_still_readable(server):
    with RawConnection(server.port, timeout=30) as conn:
        chunk = b"%x\r\n" % 65536 + b"x" * 65536 + b"\r\n"
        conn.send(chunked_head() + chunk * (2 * MAX_BODY // 65536) + b"0\r\n\r\n")
        reply = conn.read_reply()
    assert reply.status == 413 and reply.json["code"] == "body_too_large"


def test_a_refusal_before_the_body_is_read_is_readable_too(tmp_path):
    running = start_server(str(tmp_path), ORCHESTRATOR_API_KEY="edge-key-0123456789")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
        conn.request("POST", "/orchestrator/route", body=b"x" * (8 * 1024 * 1024), headers=JSON)
        response = conn.getresponse()
        answer = json.loads(response.read())
        conn.close()
    finally:
        running.stop()
    assert response.status == 401 and answer["code"] == "unauthorized"


# --- the cap on open connections -----------------------------------------------------------------


def test_past_the_connection_cap_a_connection_gets_503_with_retry_after_then_is_served_again(tmp_path):
    running = start_server(str(tmp_path), ORCHESTRATOR_MAX_CONNECTIONS="2")
    held = [RawConnection(running.port, timeout=10) for _ in range(2)]
    try:
        for conn in held:  # each kept-alive connection holds its thread
            conn.send(request_bytes("GET", "/health"))
            assert conn.read_reply().status == 200
        with RawConnection(running.port, timeout=10) as extra:
            extra.send(request_bytes("GET", "/health"))
            refused = extra.read_reply()
            assert extra.closed_by_server()
        assert refused.status == 503 and refused.headers["retry-after"] == "1"
        assert refused.json["code"] == "overloaded" and "2 connections" in refused.json["error"]
        held.pop().sock.close()
        deadline = time.monotonic() + 10
        while True:  # the freed thread notices the close and gives its place back
            with RawConnection(running.port, timeout=10) as again:
                again.send(request_bytes("GET", "/health"))
                status = again.read_reply().status
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == 200
    finally:
        for conn in held:
            conn.sock.close()
        running.stop()


# --- the rate limit before the key ---------------------------------------------------------------


def test_wrong_keys_are_rate_limited_like_any_request(tmp_path):
    running = start_server(str(tmp_path), ORCHESTRATOR_API_KEY="edge-key-0123456789", ORCHESTRATOR_RATE_LIMIT="5")
    try:
        wrong = [
            requests.get(running.url + "/orchestrator/agents", headers={"Authorization": f"Bearer guess-{n}"})
            for n in range(8)
        ]
        right = requests.get(
            running.url + "/orchestrator/agents", headers={"Authorization": "Bearer edge-key-0123456789"}
        )
    finally:
        running.stop()
    assert [r.status_code for r in wrong] == [401] * 5 + [429] * 3
    assert wrong[-1].json()["code"] == "rate_limited" and int(wrong[-1].headers["Retry-After"]) >= 1
    assert right.status_code == 200  # the guesses spent their address's bucket, not the key holder's


def test_a_made_up_bearer_gets_no_fresh_bucket_without_a_key(tmp_path):
    running = start_server(str(tmp_path), ORCHESTRATOR_RATE_LIMIT="3")
    try:
        statuses = [
            requests.get(running.url + "/orchestrator/agents", headers={"Authorization": f"Bearer {n}"}).status_code
            for n in range(5)
        ]
    finally:
        running.stop()
    assert statuses == [200, 200, 200, 429, 429]


def test_clients_with_the_key_each_have_their_own_bucket(tmp_path):
    running = start_server(
        str(tmp_path),
        ORCHESTRATOR_API_KEY="edge-key-0123456789",
        ORCHESTRATOR_RATE_LIMIT="2",
        ORCHESTRATOR_TRUSTED_PROXIES="127.0.0.1",
    )

    def status(client: str) -> int:
        headers = {"Authorization": "Bearer edge-key-0123456789", "X-Forwarded-For": client}
        return requests.get(running.url + "/orchestrator/agents", headers=headers).status_code

    try:
        first = [status("203.0.113.1") for _ in range(3)]
        second = status("203.0.113.2")
    finally:
        running.stop()
    assert first == [200, 200, 429] and second == 200


# --- Host and Origin -----------------------------------------------------------------------------


def test_a_rebound_host_with_a_matching_origin_is_421_on_smart_execute(server):
    reply = raw_request(server.port, "POST", "/orchestrator/smart-execute", {**REBIND, **JSON}, TASK)
    assert reply.status == 421
    assert reply.json["code"] == "host_not_allowed" and reply.json["field"] == "Host"
    assert "ORCHESTRATOR_ALLOWED_HOSTS" in reply.json["error"]
    assert not any(name.startswith("access-control-") for name in reply.headers)


def test_a_rebound_host_cannot_open_the_websocket(server):
    reply = raw_request(server.port, "GET", "/ws/orchestrator", {**REBIND, **WS_UPGRADE})
    assert reply.status == 421 and reply.json["code"] == "host_not_allowed"
    assert "sec-websocket-accept" not in reply.headers


def test_a_rebound_host_is_refused_even_on_the_preflight_and_health(server):
    preflight = raw_request(
        server.port, "OPTIONS", "/orchestrator/smart-execute", {**REBIND, "Access-Control-Request-Method": "POST"}
    )
    health = raw_request(server.port, "GET", "/health", {"Host": "rebind.evil.example:8001"})
    assert preflight.status == 421 and health.status == 421


def test_a_configured_public_name_and_its_own_origin_are_served(server):
    own = {"Host": "api.example.com", "Origin": "https://api.example.com", **JSON}
    answer = raw_request(server.port, "POST", "/orchestrator/smart-execute", own, TASK)
    assert answer.status == 200 and answer.json["success"] is True
    upgraded = raw_request(server.port, "GET", "/ws/orchestrator", {**own, **WS_UPGRADE})
    assert upgraded.status == 101


@pytest.mark.parametrize("host", ["localhost:8001", "127.0.0.1", "[::1]:8001", "app.localhost"])
def test_loopback_names_and_addresses_pass(server, host):
    assert raw_request(server.port, "GET", "/health", {"Host": host}).status == 200


def test_a_foreign_origin_on_an_allowed_host_is_403(server):
    headers = {"Host": "127.0.0.1", "Origin": "https://evil.example", **JSON}
    reply = raw_request(server.port, "POST", "/orchestrator/smart-execute", headers, TASK)
    assert reply.status == 403 and reply.json["code"] == "origin_not_allowed" and reply.json["field"] == "Origin"


def test_a_request_without_host_still_passes(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 ")
