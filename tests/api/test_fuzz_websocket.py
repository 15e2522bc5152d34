"""Fuzzing WebSocket frames: whatever a client sends, the server answers with well-formed frames,
ends with a close frame carrying a valid code (or the client's own), and never hangs or raises.

First against skills/server/websocket.Connection in memory (many examples, no socket), then
a few sequences against the live server, which must keep serving afterwards.
"""

from __future__ import annotations

import base64
import io
import os
import socket
import struct

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skills.server import websocket as ws
from tests.fixtures.http_server import start_server

OPCODES = [0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xB, 0xF]
SERVER_CLOSE_CODES = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}


@st.composite
def frames(draw) -> bytes:
    """One frame, usually well-formed, sometimes with reserved bits, no mask or a lying length."""
    opcode = draw(st.sampled_from(OPCODES))
    payload = draw(
        st.binary(max_size=140)
        | st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass"))
        | st.sampled_from([b"\x03\xe8", b"\x03\xe8bye", b"\x00\x01", b"\x03", b"\x0b\xb8\xff"])
    )
    fin = draw(st.booleans())
    reserved_bit = draw(st.sampled_from([0, 0, 0, 0x40]))
    frame = bytearray([(0x80 if fin else 0) | reserved_bit | opcode])
    masked = draw(st.sampled_from([True, True, True, False]))
    size = len(payload)
    if size < 126:
        frame.append((0x80 if masked else 0) | size)
    else:
        frame.append((0x80 if masked else 0) | 126)
        frame += struct.pack("!H", size)
    mask = os.urandom(4)
    if masked:
        frame += mask
        payload = ws.apply_mask(payload, mask)
    frame += payload
    if draw(st.integers(0, 9)) == 0:
        frame = frame[: draw(st.integers(0, len(frame)))]  # cut short: the peer vanished mid-frame
    return bytes(frame)


wires = st.lists(frames(), max_size=6).map(b"".join)


def server_frames(data: bytes) -> list[ws.Frame]:
    stream, found = io.BytesIO(data), []
    while stream.tell() < len(data):
        found.append(ws.read_frame(stream, require_mask=False, max_payload=1 << 20))
    return found


@settings(max_examples=300, deadline=None)
@given(wire=wires)
def test_any_frames_get_well_formed_answers_and_at_most_one_close_with_a_valid_code(wire):
    out = io.BytesIO()
    conn = ws.Connection(io.BytesIO(wire), out, max_message=1024)
    for text in conn.messages():
        conn.send_text(f'{{"echo": {len(text)}}}')
    answers = server_frames(out.getvalue())  # parses: every frame we wrote is well-formed
    closes = [frame for frame in answers if frame.opcode == ws.OP_CLOSE]
    assert len(closes) <= 1 and (not closes or answers[-1].opcode == ws.OP_CLOSE)
    for frame in closes:
        if frame.payload:
            assert struct.unpack("!H", frame.payload[:2])[0] in SERVER_CLOSE_CODES
    assert all(not frame.masked for frame in answers)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(str(tmp_path_factory.mktemp("ws-fuzz")))
    yield running
    running.stop()


def open_websocket(port: int) -> tuple[socket.socket, io.BufferedReader]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    sock.sendall(
        (
            "GET /ws/orchestrator HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode("ascii")
    )
    stream = sock.makefile("rb")
    assert b" 101 " in stream.readline()
    while stream.readline() not in (b"\r\n", b""):
        pass
    return sock, stream


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wire=wires)
def test_the_live_server_survives_any_frames_and_keeps_serving(server, wire):
    sock, stream = open_websocket(server.port)
    with sock:
        sock.sendall(wire)
        sock.shutdown(socket.SHUT_WR)  # then we are done: the server must finish and close
        received = b"".join(iter(lambda: stream.read1(65536), b""))
    server_frames(received)  # well-formed, whatever was sent
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
