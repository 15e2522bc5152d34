"""/ws/orchestrator against the real server, driven by an independent client (websocket-client),
so our framing is checked against someone else's implementation rather than against itself."""

from __future__ import annotations

import json
import socket
import struct

import pytest
import requests
import websocket  # websocket-client
from websocket import ABNF

from tests.fixtures.http_server import start_server

TASK = "Check CPU usage on the server"  # answered on this machine, without an API key


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(str(tmp_path_factory.mktemp("ws-state")))
    yield running
    running.stop()


def ws_url(server) -> str:
    return server.url.replace("http://", "ws://", 1) + "/ws/orchestrator"


@pytest.fixture
def client(server):
    conn = websocket.create_connection(ws_url(server), timeout=30)
    yield conn
    conn.close(timeout=2)


def close_frame(conn) -> tuple[int, str]:
    """Read until the server's close frame; its (code, reason)."""
    while True:
        opcode, frame = conn.recv_data_frame(control_frame=True)
        if opcode == ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", frame.data[:2])[0], frame.data[2:].decode("utf-8")


def test_plain_text_task_comes_back_as_smart_execute_json(client):
    client.send(TASK)
    result = json.loads(client.recv())
    assert result["success"] is True
    assert result["agent"] == "vps-monitor"
    assert [call["name"] for call in result["tool_calls"]] == ["cpu_usage"]
    assert "CPU" in result["response"]


def test_json_task_and_several_messages_on_one_connection(client):
    client.send(json.dumps({"task": "How much RAM is free on the VPS?", "context": {"page": "monitoring"}}))
    first = json.loads(client.recv())
    client.send(TASK)
    second = json.loads(client.recv())
    assert first["agent"] == second["agent"] == "vps-monitor"
    assert first["tool_calls"][0]["name"] == "memory_usage"


def test_bad_task_gets_a_json_error_and_the_connection_stays_open(client):
    client.send("x" * 5001)
    error = json.loads(client.recv())
    assert (error["code"], error["field"]) == ("bad_input", "task")
    client.send(json.dumps({"task": 42}))
    assert json.loads(client.recv())["field"] == "task"
    client.send(TASK)
    assert json.loads(client.recv())["success"] is True


def test_fragmented_message_is_reassembled(client):
    data = TASK.encode()
    client.send_frame(ABNF.create_frame(data[:5], ABNF.OPCODE_TEXT, fin=0))
    client.ping(b"between fragments")
    client.send_frame(ABNF.create_frame(data[5:12], ABNF.OPCODE_CONT, fin=0))
    client.send_frame(ABNF.create_frame(data[12:], ABNF.OPCODE_CONT, fin=1))
    opcode, frame = client.recv_data_frame(control_frame=True)
    assert (opcode, frame.data) == (ABNF.OPCODE_PONG, b"between fragments")
    assert json.loads(client.recv())["agent"] == "vps-monitor"


def test_ping_is_answered_with_pong_carrying_the_same_payload(client):
    client.ping(b"are you there?")
    opcode, frame = client.recv_data_frame(control_frame=True)
    assert (opcode, frame.data) == (ABNF.OPCODE_PONG, b"are you there?")


def test_client_close_is_echoed(client):
    client.send_close(1000, b"bye")
    assert close_frame(client) == (1000, "")


def test_binary_frame_is_refused_with_1003(client):
    client.send_binary(b"\x00\x01\x02")
    code, reason = close_frame(client)
    assert code == 1003 and "text" in reason


def test_message_over_64_kib_is_refused_with_1009(client):
    client.send("x" * (64 * 1024 + 1))
    assert close_frame(client)[0] == 1009


def test_unmasked_client_frame_is_refused_with_1002(client):
    frame = ABNF(fin=1, opcode=ABNF.OPCODE_TEXT, mask_value=0, data=TASK)
    client.sock.sendall(frame.format())
    assert close_frame(client)[0] == 1002


def test_invalid_utf8_is_refused_with_1007(client):
    client.send_frame(ABNF(fin=1, opcode=ABNF.OPCODE_TEXT, data=b"\xc3\x28"))
    assert close_frame(client)[0] == 1007


def test_http_keeps_serving_while_a_websocket_is_open(server, client):
    client.ping(b"1")
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
    client.send(TASK)
    assert json.loads(client.recv())["success"] is True


def raw_handshake(server, **headers) -> tuple[int, dict, bytes]:
    """A handshake from a bare socket, so headers can be wrong in ways real clients never are."""
    host = server.url.split("//", 1)[1]
    lines = ["GET /ws/orchestrator HTTP/1.1", f"Host: {host}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        found = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
        while len(body) < int(found.get("content-length", 0)):
            body += sock.recv(4096)
    return int(status_line.split()[1]), found, body


GOOD = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec_WebSocket_Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec_WebSocket_Version": "13",
}


def test_handshake_answers_101_with_the_rfc_accept_value(server):
    status, headers, _ = raw_handshake(server, **GOOD)
    assert status == 101
    assert headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert headers["upgrade"].lower() == "websocket"


def test_plain_get_without_upgrade_gets_426_json(server):
    response = requests.get(server.url + "/ws/orchestrator", timeout=10)
    assert response.status_code == 426
    assert response.headers["Upgrade"] == "websocket"
    assert response.json()["field"] == "Upgrade"


def test_wrong_version_gets_426_naming_version_13(server):
    status, headers, body = raw_handshake(server, **{**GOOD, "Sec_WebSocket_Version": "8"})
    assert status == 426 and headers["sec-websocket-version"] == "13"
    assert json.loads(body)["field"] == "Sec-WebSocket-Version"


def test_bad_key_gets_400(server):
    status, _, body = raw_handshake(server, **{**GOOD, "Sec_WebSocket_Key": "too-short"})
    assert status == 400 and json.loads(body)["field"] == "Sec-WebSocket-Key"


def test_foreign_origin_is_refused_so_other_sites_cannot_drive_the_server(server):
    with pytest.raises(websocket.WebSocketBadStatusException) as caught:
        websocket.create_connection(ws_url(server), timeout=10, origin="https://evil.example")
    assert caught.value.status_code == 403


def test_same_origin_page_may_connect(server):
    conn = websocket.create_connection(ws_url(server), timeout=10, origin=server.url)
    conn.ping(b"ok")
    assert conn.recv_data_frame(control_frame=True)[0] == ABNF.OPCODE_PONG
    conn.close()


def test_with_an_api_key_the_websocket_needs_the_bearer_header(tmp_path):
    running = start_server(str(tmp_path), ORCHESTRATOR_API_KEY="ws-secret-key")
    try:
        with pytest.raises(websocket.WebSocketBadStatusException) as caught:
            websocket.create_connection(ws_url(running), timeout=10)
        assert caught.value.status_code == 401
        conn = websocket.create_connection(ws_url(running), timeout=30, header=["Authorization: Bearer ws-secret-key"])
        conn.send(TASK)
        assert json.loads(conn.recv())["success"] is True
        conn.close()
    finally:
        running.stop()
