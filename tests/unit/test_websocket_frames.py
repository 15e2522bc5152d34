"""RFC 6455 framing and connection rules of skills/server/websocket.py, without a socket.

Byte strings marked "RFC" are the worked examples of RFC 6455 section 5.7, so these tests
check us against the standard rather than against our own encoder.
"""

from __future__ import annotations

import io
import json
import os
import struct

import pytest

from skills.server import websocket as ws

MASK = b"\x37\xfa\x21\x3d"


def client_frame(opcode: int, payload: bytes = b"", *, fin: bool = True) -> bytes:
    return ws.encode_frame(opcode, payload, fin=fin, mask=os.urandom(4))


def server_frames(data: bytes) -> list[ws.Frame]:
    """Everything the server wrote, parsed back (server frames are unmasked)."""
    stream, frames = io.BytesIO(data), []
    while stream.tell() < len(data):
        frames.append(ws.read_frame(stream, require_mask=False, max_payload=1 << 30))
    return frames


def run_connection(wire: bytes, *, max_message: int = ws.DEFAULT_MAX_MESSAGE, reply=lambda text: text.upper()):
    """Feed `wire` to a Connection, answer each text with `reply`; return (messages, frames sent)."""
    out = io.BytesIO()
    conn = ws.Connection(io.BytesIO(wire), out, max_message=max_message)
    received = []
    for text in conn.messages():
        received.append(text)
        conn.send_text(reply(text))
    return received, server_frames(out.getvalue())


def close_code(frame: ws.Frame) -> int:
    assert frame.opcode == ws.OP_CLOSE
    return struct.unpack("!H", frame.payload[:2])[0]


# --- handshake ---------------------------------------------------------------------------


def test_accept_key_matches_the_rfc_example():
    assert ws.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def good_headers(**changes) -> dict:
    headers = {
        "Host": "127.0.0.1:8001",
        "Upgrade": "websocket",
        "Connection": "keep-alive, Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    headers.update(changes)
    return {k: v for k, v in headers.items() if v is not None}


def test_handshake_accepts_a_valid_request_with_token_lists_and_any_case():
    headers = good_headers(Upgrade="WebSocket", Connection="keep-alive, upgrade")
    assert ws.check_handshake("GET", headers) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize(
    "changes, status, field",
    [
        ({"Upgrade": None}, 426, "Upgrade"),
        ({"Upgrade": "h2c"}, 426, "Upgrade"),
        ({"Connection": "keep-alive"}, 400, "Connection"),
        ({"Sec-WebSocket-Version": "8"}, 426, "Sec-WebSocket-Version"),
        ({"Sec-WebSocket-Version": None}, 426, "Sec-WebSocket-Version"),
        ({"Sec-WebSocket-Key": None}, 400, "Sec-WebSocket-Key"),
        ({"Sec-WebSocket-Key": "not base64!"}, 400, "Sec-WebSocket-Key"),
        ({"Sec-WebSocket-Key": "c2hvcnQ="}, 400, "Sec-WebSocket-Key"),  # decodes to 5 bytes, not 16
        ({"Origin": "https://evil.example"}, 403, "Origin"),
        ({"Origin": "null"}, 403, "Origin"),
    ],
)
def test_handshake_refuses_bad_requests_naming_the_header(changes, status, field):
    with pytest.raises(ws.HandshakeError) as caught:
        ws.check_handshake("GET", good_headers(**changes))
    assert (caught.value.status, caught.value.field) == (status, field)
    assert caught.value.to_json()["field"] == field


def test_handshake_version_refusal_advertises_version_13():
    with pytest.raises(ws.HandshakeError) as caught:
        ws.check_handshake("GET", good_headers(**{"Sec-WebSocket-Version": "8"}))
    assert caught.value.extra_headers["Sec-WebSocket-Version"] == "13"


def test_handshake_refuses_other_methods():
    with pytest.raises(ws.HandshakeError) as caught:
        ws.check_handshake("POST", good_headers())
    assert caught.value.status == 405


def test_handshake_allows_same_origin_and_listed_origins():
    assert ws.check_handshake("GET", good_headers(Origin="http://127.0.0.1:8001"))
    listed = good_headers(Origin="https://app.example")
    assert ws.check_handshake("GET", listed, allowed_origins=["https://app.example"])


# --- frames ------------------------------------------------------------------------------


def test_encode_unmasked_text_matches_the_rfc_example():
    assert ws.encode_frame(ws.OP_TEXT, b"Hello") == b"\x81\x05\x48\x65\x6c\x6c\x6f"  # RFC


def test_encode_masked_text_matches_the_rfc_example():
    expected = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"  # RFC
    assert ws.encode_frame(ws.OP_TEXT, b"Hello", mask=MASK) == expected


def test_read_frame_unmasks_the_rfc_example():
    frame = ws.read_frame(io.BytesIO(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"))
    assert (frame.fin, frame.opcode, frame.payload, frame.masked) == (True, ws.OP_TEXT, b"Hello", True)


def test_encode_uses_16_bit_length_from_126_bytes():
    assert ws.encode_frame(ws.OP_BINARY, b"\0" * 256)[:4] == b"\x82\x7e\x01\x00"  # RFC
    assert ws.encode_frame(ws.OP_TEXT, b"x" * 125)[:2] == b"\x81\x7d"
    assert ws.encode_frame(ws.OP_TEXT, b"x" * 126)[:4] == b"\x81\x7e\x00\x7e"


def test_encode_uses_64_bit_length_from_65536_bytes():
    frame = ws.encode_frame(ws.OP_BINARY, b"\0" * 65536)
    assert frame[:10] == b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"  # RFC
    assert ws.encode_frame(ws.OP_TEXT, b"x" * 65535)[:4] == b"\x81\x7e\xff\xff"


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_masked_frames_round_trip_at_every_length_boundary(size):
    payload = os.urandom(size)
    wire = ws.encode_frame(ws.OP_BINARY, payload, mask=os.urandom(4))
    frame = ws.read_frame(io.BytesIO(wire), max_payload=1 << 20)
    assert frame.payload == payload


def test_read_frame_refuses_unmasked_client_frames():
    with pytest.raises(ws.ProtocolError) as caught:
        ws.read_frame(io.BytesIO(ws.encode_frame(ws.OP_TEXT, b"hi")))
    assert caught.value.close_code == ws.CLOSE_PROTOCOL_ERROR


def test_read_frame_refuses_oversize_before_reading_the_payload():
    wire = io.BytesIO(ws.encode_frame(ws.OP_TEXT, b"x" * 2000, mask=MASK))
    with pytest.raises(ws.ProtocolError) as caught:
        ws.read_frame(wire, max_payload=1000)
    assert caught.value.close_code == ws.CLOSE_TOO_BIG
    assert wire.tell() == 4  # header and 16-bit length only


@pytest.mark.parametrize(
    "wire",
    [
        bytes([0x81 | 0x40, 0x80]) + MASK,  # RSV1 without an extension
        bytes([0x83, 0x80]) + MASK,  # reserved data opcode 3
        bytes([0x8B, 0x80]) + MASK,  # reserved control opcode 0xB
        bytes([0x89, 0x80 | 126, 0x00, 0x7E]) + MASK + b"\0" * 126,  # ping over 125 bytes
        bytes([0x09, 0x80]) + MASK,  # fragmented ping
        bytes([0x81, 0x80 | 127]) + b"\x80" + b"\0" * 7 + MASK,  # 64-bit length with its top bit set
    ],
    ids=["rsv-bit", "opcode-3", "opcode-b", "big-ping", "fragmented-ping", "length-msb"],
)
def test_read_frame_refuses_protocol_violations_with_1002(wire):
    with pytest.raises(ws.ProtocolError) as caught:
        ws.read_frame(io.BytesIO(wire), max_payload=1 << 62)
    assert caught.value.close_code == ws.CLOSE_PROTOCOL_ERROR


def test_read_frame_reports_a_truncated_stream():
    wire = ws.encode_frame(ws.OP_TEXT, b"hello", mask=MASK)
    with pytest.raises(ws.ConnectionEnded):
        ws.read_frame(io.BytesIO(wire[:-2]))


def test_encode_refuses_oversize_control_frames():
    with pytest.raises(ValueError):
        ws.encode_frame(ws.OP_PING, b"x" * 126)


@pytest.mark.parametrize(
    "payload, expected",
    [
        (b"", (1005, "")),
        (struct.pack("!H", 1000) + b"bye", (1000, "bye")),
        (struct.pack("!H", 4000), (4000, "")),
    ],
)
def test_parse_close_reads_code_and_reason(payload, expected):
    assert ws.parse_close(payload) == expected


@pytest.mark.parametrize(
    "payload, code",
    [
        (b"\x03", 1002),
        (struct.pack("!H", 1005), 1002),
        (struct.pack("!H", 999), 1002),
        (struct.pack("!H", 5000), 1002),
        (struct.pack("!H", 1000) + b"\xff", 1007),
    ],
)
def test_parse_close_refuses_invalid_bodies(payload, code):
    with pytest.raises(ws.ProtocolError) as caught:
        ws.parse_close(payload)
    assert caught.value.close_code == code


# --- connection behaviour ----------------------------------------------------------------


def test_text_message_is_answered_with_one_unmasked_text_frame():
    received, sent = run_connection(client_frame(ws.OP_TEXT, b"check cpu"))
    assert received == ["check cpu"]
    assert sent[0].opcode == ws.OP_TEXT and sent[0].payload == b"CHECK CPU" and not sent[0].masked


def test_fragments_are_joined_and_pings_between_them_answered():
    snowman = "☃".encode()  # split across the fragment boundary on purpose
    wire = (
        client_frame(ws.OP_TEXT, b"Hel" + snowman[:1], fin=False)
        + client_frame(ws.OP_PING, b"are you there")
        + client_frame(ws.OP_CONTINUATION, snowman[1:], fin=False)
        + client_frame(ws.OP_CONTINUATION, b"lo", fin=True)
    )
    received, sent = run_connection(wire)
    assert received == ["Hel☃lo"]
    assert (sent[0].opcode, sent[0].payload) == (ws.OP_PONG, b"are you there")
    assert sent[1].opcode == ws.OP_TEXT


def test_client_close_is_echoed_and_ends_the_loop():
    wire = client_frame(ws.OP_CLOSE, ws.close_payload(1000, "done")) + client_frame(ws.OP_TEXT, b"never read")
    received, sent = run_connection(wire)
    assert received == []
    assert len(sent) == 1 and close_code(sent[0]) == 1000


def test_empty_client_close_is_answered_with_1000():
    _, sent = run_connection(client_frame(ws.OP_CLOSE))
    assert close_code(sent[0]) == 1000


def test_binary_message_is_refused_with_1003():
    received, sent = run_connection(client_frame(ws.OP_BINARY, b"\x00\x01"))
    assert received == []
    assert close_code(sent[-1]) == ws.CLOSE_UNSUPPORTED_DATA


def test_message_over_the_cap_across_fragments_is_refused_with_1009():
    wire = client_frame(ws.OP_TEXT, b"x" * 600, fin=False) + client_frame(ws.OP_CONTINUATION, b"x" * 600)
    received, sent = run_connection(wire, max_message=1000)
    assert received == []
    assert close_code(sent[-1]) == ws.CLOSE_TOO_BIG


def test_default_cap_is_64_kib():
    wire = client_frame(ws.OP_TEXT, b"x" * (64 * 1024 + 1))
    _, sent = run_connection(wire)
    assert close_code(sent[-1]) == ws.CLOSE_TOO_BIG
    received, _ = run_connection(client_frame(ws.OP_TEXT, b"x" * (64 * 1024)))
    assert len(received[0]) == 64 * 1024


def test_invalid_utf8_text_is_refused_with_1007():
    _, sent = run_connection(client_frame(ws.OP_TEXT, b"\xc3\x28"))
    assert close_code(sent[-1]) == ws.CLOSE_INVALID_PAYLOAD


def test_continuation_without_a_message_is_refused_with_1002():
    _, sent = run_connection(client_frame(ws.OP_CONTINUATION, b"orphan"))
    assert close_code(sent[-1]) == ws.CLOSE_PROTOCOL_ERROR


def test_new_message_inside_a_fragmented_one_is_refused_with_1002():
    wire = client_frame(ws.OP_TEXT, b"first", fin=False) + client_frame(ws.OP_TEXT, b"second")
    _, sent = run_connection(wire)
    assert close_code(sent[-1]) == ws.CLOSE_PROTOCOL_ERROR


def test_server_initiated_close_waits_for_the_clients_close_frame():
    wire = client_frame(ws.OP_BINARY, b"x") + client_frame(ws.OP_TEXT, b"late") + client_frame(ws.OP_CLOSE)
    stream = io.BytesIO(wire)
    conn = ws.Connection(stream, io.BytesIO())
    assert list(conn.messages()) == []
    assert stream.tell() == len(wire)  # read through to the peer's close, ignoring data frames


def test_peer_vanishing_mid_frame_ends_quietly():
    wire = client_frame(ws.OP_TEXT, b"hello")[:-3]
    received, sent = run_connection(wire)
    assert received == [] and sent == []


def test_after_refusing_an_oversize_frame_the_rest_is_read_and_dropped_until_the_peer_closes():
    # The unread payload is not frames; parsing it would fail and leave bytes unread, and a
    # socket closed with unread bytes sends a reset that can destroy our close frame.
    wire = client_frame(ws.OP_TEXT, b"x" * 2000) + client_frame(ws.OP_CLOSE)
    stream, out = io.BytesIO(wire), io.BytesIO()
    conn = ws.Connection(stream, out, max_message=1000)
    assert list(conn.messages()) == []
    assert close_code(server_frames(out.getvalue())[0]) == ws.CLOSE_TOO_BIG
    assert stream.tell() == len(wire)


def test_errors_found_after_a_whole_frame_keep_the_stream_in_sync():
    wire = client_frame(ws.OP_TEXT, b"\xff") + client_frame(ws.OP_BINARY, b"x" * 5000) + client_frame(ws.OP_CLOSE)
    stream = io.BytesIO(wire + b"after the close")
    conn = ws.Connection(stream, io.BytesIO(), max_message=1000)
    assert list(conn.messages()) == []
    assert stream.tell() == len(wire)  # parsed frame by frame up to the close frame, and no further


# --- serve() on a stand-in handler: what the server's on_text errors turn into --------------


class _Handler:
    """Just what serve() uses of http.server's BaseHTTPRequestHandler."""

    def __init__(self, wire: bytes, **header_changes):
        self.command = "GET"
        self.headers = good_headers(**header_changes)
        self.rfile, self.wfile = io.BytesIO(wire), io.BytesIO()
        self.status_line = None
        self.close_connection = False

    def send_response(self, code, message=None):
        self.status_line = code
        self.wfile.write(f"HTTP/1.1 {code}\r\n".encode())

    def send_header(self, name, value):
        self.wfile.write(f"{name}: {value}\r\n".encode())

    def end_headers(self):
        self.wfile.write(b"\r\n")

    def frames(self) -> list[ws.Frame]:
        return server_frames(self.wfile.getvalue().partition(b"\r\n\r\n")[2])


def test_serve_answers_orchestrator_errors_as_json_and_carries_on():
    from skills.errors import AgentNotFound

    def on_text(text):
        if text == "bad":
            raise AgentNotFound("no agent 'x': GET /orchestrator/agents lists them", field="agent")
        return '{"ok": true}'

    handler = _Handler(client_frame(ws.OP_TEXT, b"bad") + client_frame(ws.OP_TEXT, b"good") + client_frame(ws.OP_CLOSE))
    assert ws.serve(handler, on_text) == 101
    replies = [frame.payload for frame in handler.frames() if frame.opcode == ws.OP_TEXT]
    assert json.loads(replies[0])["code"] == "agent_not_found"
    assert replies[1] == b'{"ok": true}'
    assert handler.close_connection is True


def test_serve_closes_with_1011_and_reraises_an_unexpected_error():
    def on_text(text):
        raise RuntimeError("bug")

    handler = _Handler(client_frame(ws.OP_TEXT, b"task") + client_frame(ws.OP_CLOSE))
    with pytest.raises(RuntimeError):
        ws.serve(handler, on_text)
    assert close_code(handler.frames()[-1]) == ws.CLOSE_INTERNAL_ERROR


def test_serve_refuses_a_bad_handshake_with_json_and_returns_its_status():
    handler = _Handler(b"", Upgrade=None)
    assert ws.serve(handler, lambda text: text) == 426
    head, _, body = handler.wfile.getvalue().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 426") and b"Sec-WebSocket-Version: 13" in head
    assert json.loads(body) == {
        "error": "this endpoint speaks WebSocket only: send Upgrade: websocket",
        "code": "bad_handshake",
        "field": "Upgrade",
    }


def test_close_reason_is_cut_to_fit_without_splitting_a_character():
    payload = ws.close_payload(1000, "é" * 100)
    assert len(payload) <= 125
    assert ws.parse_close(payload) == (1000, "é" * 61)
