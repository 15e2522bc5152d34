"""RFC 6455 WebSocket over the standard library, for `/ws/orchestrator`.

The HTTP server hands us its `BaseHTTPRequestHandler` once it has seen `GET /ws/orchestrator`;
`serve()` checks the opening handshake, answers `101 Switching Protocols`, then reads the
client's frames from `handler.rfile` until the connection closes. Each complete text message
goes to `on_text(text)` and its return value goes back as one text frame: a task in, its JSON
result out. Binary messages are refused (close 1003), messages over `max_message` bytes are
refused (close 1009), protocol violations close with 1002 and invalid UTF-8 with 1007.

The framing helpers (`accept_key`, `encode_frame`, `read_frame`, `check_handshake`) are pure
and separately testable; `serve()` only wires them to a socket.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

from skills.errors import OrchestratorError

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # fixed by RFC 6455 section 1.3
DEFAULT_MAX_MESSAGE = 64 * 1024
CLOSE_TIMEOUT_S = 5.0  # how long we wait for the peer's close frame after sending ours
LINGER_BYTES = 1 << 20  # what we read and drop, at most, while waiting for the peer to close

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
_DATA_OPCODES = {OP_CONTINUATION, OP_TEXT, OP_BINARY}
_CONTROL_OPCODES = {OP_CLOSE, OP_PING, OP_PONG}

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
# Codes a peer may put on the wire (RFC 6455 7.4.1; 1005/1006/1015 are reserved for local use).
_VALID_CLOSE_CODES = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}


class ProtocolError(Exception):
    """The peer broke the protocol; we close the connection with `close_code`.

    `in_sync` says whether the offending frame was read whole, so the next bytes on the wire
    start a frame; after a refused header (too big, malformed) they do not.
    """

    def __init__(self, close_code: int, reason: str, *, in_sync: bool = False):
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason
        self.in_sync = in_sync


class ConnectionEnded(Exception):
    """The peer went away (EOF or a socket error) in the middle of a frame."""


class HandshakeError(Exception):
    """The opening handshake is wrong; answered with `status` and a JSON error body."""

    def __init__(self, status: int, message: str, field: str, extra_headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.extra_headers = extra_headers or {}

    def to_json(self) -> dict:
        return {"error": self.message, "code": "bad_handshake", "field": self.field}


@dataclass
class Frame:
    fin: bool
    opcode: int
    payload: bytes
    masked: bool = True


# --- pure helpers -------------------------------------------------------------------------


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2)."""
    digest = hashlib.sha1((key.strip() + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def apply_mask(payload: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte key; masking and unmasking are the same operation.

    Done as one big-integer XOR rather than a Python loop: ~100x faster for a 64 KiB message.
    """
    size = len(payload)
    if not size:
        return b""
    repeated = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")


def encode_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bytes | None = None) -> bytes:
    """One frame. Servers send unmasked (mask=None); a client (or a test) passes a 4-byte mask."""
    if opcode in _CONTROL_OPCODES and (len(payload) > 125 or not fin):
        raise ValueError("control frames carry at most 125 bytes and cannot be fragmented")
    head = bytearray([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if mask is not None else 0
    size = len(payload)
    if size < 126:
        head.append(mask_bit | size)
    elif size < 1 << 16:
        head.append(mask_bit | 126)
        head += struct.pack("!H", size)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", size)
    if mask is None:
        return bytes(head) + payload
    if len(mask) != 4:
        raise ValueError("a frame mask is exactly 4 bytes")
    return bytes(head) + mask + apply_mask(payload, mask)


def close_payload(code: int, reason: str = "") -> bytes:
    """A close frame body: the 2-byte code then a UTF-8 reason, cut to fit 125 bytes."""
    cut = reason.encode("utf-8")[:123].decode("utf-8", "ignore")  # never half a character
    return struct.pack("!H", code) + cut.encode("utf-8")


def _read_exact(rfile: BinaryIO, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        try:
            chunk = rfile.read(remaining)
        except OSError as exc:  # reset, timeout: the peer is gone either way
            raise ConnectionEnded(str(exc)) from exc
        if not chunk:
            raise ConnectionEnded("connection closed in the middle of a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(rfile: BinaryIO, *, max_payload: int = DEFAULT_MAX_MESSAGE, require_mask: bool = True) -> Frame:
    """Read and unmask one frame, enforcing the rules a server must (RFC 6455 section 5).

    Raises ProtocolError (with the close code to send) for a frame we must refuse, before
    reading a payload that is too big, and ConnectionEnded when the stream ends early.
    """
    first, second = _read_exact(rfile, 2)
    fin, opcode = bool(first & 0x80), first & 0x0F
    if first & 0x70:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "reserved bits set but no extension was negotiated")
    if opcode not in _DATA_OPCODES | _CONTROL_OPCODES:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"unknown opcode 0x{opcode:x}")
    masked, size = bool(second & 0x80), second & 0x7F
    if require_mask and not masked:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "client frames must be masked")
    if opcode in _CONTROL_OPCODES and (size > 125 or not fin):
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "control frames must be unfragmented and at most 125 bytes")
    if size == 126:
        (size,) = struct.unpack("!H", _read_exact(rfile, 2))
    elif size == 127:
        (size,) = struct.unpack("!Q", _read_exact(rfile, 8))
        if size >> 63:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "64-bit length has its most significant bit set")
    if size > max_payload:
        raise ProtocolError(CLOSE_TOO_BIG, f"message over {max_payload} bytes")
    mask = _read_exact(rfile, 4) if masked else None
    payload = _read_exact(rfile, size)
    return Frame(fin, opcode, apply_mask(payload, mask) if mask else payload, masked)


def parse_close(payload: bytes) -> tuple[int, str]:
    """The (code, reason) of a peer's close frame; 1005 'no status' when it sent none."""
    if not payload:
        return 1005, ""
    if len(payload) == 1:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "close frame body of one byte", in_sync=True)
    (code,) = struct.unpack("!H", payload[:2])
    if code not in _VALID_CLOSE_CODES and not 3000 <= code <= 4999:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"invalid close code {code}", in_sync=True)
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(CLOSE_INVALID_PAYLOAD, "close reason is not UTF-8", in_sync=True) from None
    return code, reason


def _header_tokens(value: str | None) -> set[str]:
    return {token.strip().lower() for token in (value or "").split(",") if token.strip()}


def origin_allowed(origin: str | None, host: str | None, allowed_origins: list[str] | tuple[str, ...]) -> bool:
    """Browsers send Origin on every WebSocket and CORS does not protect WebSockets, so we
    check it ourselves: otherwise any page the user visits could drive a loopback server.
    No Origin (a non-browser client), the page's own origin, or a listed origin pass."""
    if origin is None:
        return True
    if origin in allowed_origins:
        return True
    netloc = urlsplit(origin).netloc.lower()
    return bool(netloc) and netloc == (host or "").strip().lower()


def check_handshake(method: str, headers, allowed_origins: list[str] | tuple[str, ...] = ()) -> str:
    """Validate a client's opening handshake; return the Sec-WebSocket-Accept value.

    `headers` is anything with `.get(name)` answering case-insensitively (http.client's
    HTTPMessage, as on BaseHTTPRequestHandler). Raises HandshakeError.
    """
    if method != "GET":
        raise HandshakeError(405, "a WebSocket opens with GET", "method", {"Allow": "GET"})
    upgrade_headers = {"Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
    if "websocket" not in _header_tokens(headers.get("Upgrade")):
        raise HandshakeError(
            426, "this endpoint speaks WebSocket only: send Upgrade: websocket", "Upgrade", upgrade_headers
        )
    if "upgrade" not in _header_tokens(headers.get("Connection")):
        raise HandshakeError(400, "send Connection: Upgrade with Upgrade: websocket", "Connection")
    version = (headers.get("Sec-WebSocket-Version") or "").strip()
    if version != "13":
        raise HandshakeError(
            426,
            f"unsupported Sec-WebSocket-Version {version or '(none)'}: use 13",
            "Sec-WebSocket-Version",
            {"Sec-WebSocket-Version": "13"},
        )
    key = (headers.get("Sec-WebSocket-Key") or "").strip()
    try:
        valid_key = len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        valid_key = False
    if not valid_key:
        raise HandshakeError(400, "Sec-WebSocket-Key must be 16 random bytes in base64", "Sec-WebSocket-Key")
    if not origin_allowed(headers.get("Origin"), headers.get("Host"), allowed_origins):
        raise HandshakeError(403, "this Origin may not open a WebSocket here: add it to ALLOWED_ORIGINS", "Origin")
    return accept_key(key)


# --- the connection -----------------------------------------------------------------------


class Connection:
    """One accepted WebSocket: reads messages, answers them, runs the close handshake."""

    def __init__(self, rfile: BinaryIO, wfile: BinaryIO, sock=None, *, max_message: int = DEFAULT_MAX_MESSAGE):
        self.rfile, self.wfile, self.sock = rfile, wfile, sock
        self.max_message = max_message
        self.closed = False

    def send(self, opcode: int, payload: bytes = b"") -> None:
        self.wfile.write(encode_frame(opcode, payload))
        self.wfile.flush()

    def send_text(self, text: str) -> None:
        self.send(OP_TEXT, text.encode("utf-8"))

    def close(self, code: int, reason: str = "", *, await_reply: bool = True, in_sync: bool = True) -> None:
        """Send our close frame and, when we started the close, wait briefly for the peer's.

        Waiting matters: closing a socket with unread data makes the kernel send a reset,
        which can destroy our close frame before the peer reads it.
        """
        if self.closed:
            return
        self.closed = True
        try:
            self.send(OP_CLOSE, close_payload(code, reason))
        except OSError:
            return
        if not await_reply:
            return
        if self.sock is not None:
            self.sock.settimeout(CLOSE_TIMEOUT_S)
        if in_sync and self._read_until_close():
            return
        self._linger()

    def _read_until_close(self) -> bool:
        """Skip the peer's frames up to its close frame; False if the stream stopped making sense."""
        try:
            while read_frame(self.rfile, max_payload=LINGER_BYTES).opcode != OP_CLOSE:
                pass
        except ProtocolError:
            return False
        except ConnectionEnded:
            pass  # the peer is gone: nothing left to wait for
        return True

    def _linger(self) -> None:
        """Read and drop raw bytes until the peer closes, or time or the byte budget runs out."""
        read = getattr(self.rfile, "read1", self.rfile.read)
        budget, deadline = LINGER_BYTES, time.monotonic() + CLOSE_TIMEOUT_S
        try:
            while budget > 0 and time.monotonic() < deadline:
                chunk = read(min(65536, budget))
                if not chunk:
                    return
                budget -= len(chunk)
        except OSError:
            pass  # reset or timeout: the peer is gone or silent, and we are closing anyway

    def messages(self):
        """Yield each complete text message; handles control frames and closes on errors."""
        try:
            yield from self._messages()
        except ProtocolError as exc:
            self.close(exc.close_code, exc.reason, in_sync=exc.in_sync)
        except ConnectionEnded:
            self.closed = True

    def _messages(self):
        parts: list[bytes] = []
        kind = None  # opcode of the message being assembled from fragments
        while not self.closed:
            frame = read_frame(self.rfile, max_payload=self.max_message - sum(map(len, parts)))
            if frame.opcode in _CONTROL_OPCODES:
                self._control(frame)
                continue
            if frame.opcode == OP_CONTINUATION and kind is None:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "continuation without a message to continue", in_sync=True)
            if frame.opcode != OP_CONTINUATION and kind is not None:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "new message before the last one finished", in_sync=True)
            kind = kind if frame.opcode == OP_CONTINUATION else frame.opcode
            parts.append(frame.payload)
            if not frame.fin:
                continue
            payload, message_kind, parts, kind = b"".join(parts), kind, [], None
            if message_kind == OP_BINARY:
                raise ProtocolError(CLOSE_UNSUPPORTED_DATA, "send tasks as text frames, not binary", in_sync=True)
            try:
                yield payload.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError(CLOSE_INVALID_PAYLOAD, "text message is not valid UTF-8", in_sync=True) from None

    def _control(self, frame: Frame) -> None:
        if frame.opcode == OP_PING:
            self.send(OP_PONG, frame.payload)
        elif frame.opcode == OP_CLOSE:
            code, _reason = parse_close(frame.payload)
            # Echo the peer's code (RFC 6455 5.5.1); they started the close, so no waiting.
            self.close(CLOSE_NORMAL if code == 1005 else code, await_reply=False)
        # An unsolicited pong is allowed and means nothing to us.


def _refuse(handler, error: HandshakeError) -> None:
    body = json.dumps(error.to_json()).encode("utf-8")
    handler.send_response(error.status)
    for name, value in error.extra_headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True  # the client may have sent frames already; do not read them as HTTP
    if handler.command != "HEAD":
        handler.wfile.write(body)


def _event_sender(conn: Connection) -> Callable[[str, dict], None]:
    """Sends one progress event as a text message; a peer gone mid-run only ends the sending."""

    def send(event: str, data: dict) -> None:
        if conn.closed:
            return
        try:
            conn.send_text(json.dumps({"event": event, "data": data}, ensure_ascii=False))
        except OSError:
            conn.closed = True

    return send


def serve(
    handler,
    on_text: Callable[..., str],
    *,
    allowed_origins: list[str] | tuple[str, ...] = (),
    max_message: int = DEFAULT_MAX_MESSAGE,
    with_events: bool = False,
) -> int:
    """Run one WebSocket connection on `handler` (a BaseHTTPRequestHandler) until it closes.

    A bad handshake is answered with 400/403/405/426 and a JSON error. `on_text` errors that
    are OrchestratorErrors go back to the client as their JSON; anything else closes the
    connection with 1011 and is re-raised so the server logs it. Returns the HTTP status of
    the handshake answer (101, or the refusal's), for the server's metrics.

    `with_events`: `on_text(text, on_event)` gets a second argument that sends each progress
    event as its own message, {"event": name, "data": {...}}, before the answer.
    """
    try:
        accept = check_handshake(handler.command, handler.headers, allowed_origins)
    except HandshakeError as error:
        _refuse(handler, error)
        return error.status
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept)
    handler.end_headers()
    handler.wfile.flush()
    handler.close_connection = True  # after the WebSocket ends, the TCP connection ends too
    conn = Connection(handler.rfile, handler.wfile, getattr(handler, "connection", None), max_message=max_message)
    try:
        for text in conn.messages():
            try:
                reply = on_text(text, _event_sender(conn)) if with_events else on_text(text)
            except OrchestratorError as error:
                reply = json.dumps(error.to_json())
            conn.send_text(reply)
    except OSError:
        conn.closed = True  # the peer vanished while we were answering
    except Exception:
        conn.close(CLOSE_INTERNAL_ERROR, "internal error")
        raise
    return 101
