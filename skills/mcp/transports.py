"""The two ways to reach the MCP server: stdio (one client, what desktop apps start) and streamable HTTP.

stdio: the SDK's transport reads JSON-RPC lines, but drops a line that is not a JSON-RPC message
without a word (a client waiting on that id would wait for ever) and answers an unknown method
with "invalid parameters". Lines pass through a check here first: a bad one is answered with the
right JSON-RPC error (parse error; invalid request or method not found, with its id when it has
one) and the server reads on.

HTTP: the SDK's session manager at /mcp behind Guard (skills/mcp/http.py: Origin, API key,
CORS), served by uvicorn on a socket the command has already bound (so --port 0 works and the
address is known before serving).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
import typing

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from skills.mcp.http import Guard, respond_json

MCP_PATH = "/mcp"
READ_CHUNK = 65536
DIRECT_WRITE = 16384  # bytes; a pipe holds 64 KiB
MAX_BODY = 1024 * 1024  # a task is at most 5,000 characters; the SDK's default is 4 MiB
NOT_JSON_RPC = 'not a JSON-RPC 2.0 message: it needs "jsonrpc": "2.0" and a method (params an object) or a result'


class _LineWriter:
    """stdout, shared by the SDK's transport and the error replies below: one whole line per write.

    A line of up to DIRECT_WRITE bytes is written from the event loop itself (a pipe takes it at
    once unless the client has stopped reading); longer ones go through a thread, as the SDK does.
    A thread hop per answer is most of what a quick tool call costs.
    """

    def __init__(self):
        self._out = sys.stdout.buffer
        self._lock = anyio.Lock()

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._out.flush()

    async def write(self, text: str) -> None:
        data = text.encode("utf-8")
        async with self._lock:
            try:
                if len(data) <= DIRECT_WRITE:
                    self._write(data)
                else:
                    await anyio.to_thread.run_sync(self._write, data)
            except BrokenPipeError:
                raise anyio.ClosedResourceError from None  # the client has gone; the transport stops quietly

    async def flush(self) -> None:
        """Each write already flushed."""


def malformed_reply(line: str) -> dict:
    """The JSON-RPC error for a line that is not a JSON-RPC message: parse error, or invalid request."""
    try:
        message = json.loads(line)
    except ValueError as exc:
        return {"jsonrpc": "2.0", "id": None, "error": {"code": types.PARSE_ERROR, "message": f"not JSON: {exc}"}}
    request_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, (str, int)):
        request_id = None
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": types.INVALID_REQUEST, "message": NOT_JSON_RPC}}


def _request_methods() -> frozenset[str]:
    """The request methods the SDK can parse; it answers any other with a vague 'invalid parameters'."""
    members = typing.get_args(types.ClientRequest.model_fields["root"].annotation)
    return frozenset(typing.get_args(member.model_fields["method"].annotation)[0] for member in members)


class _CheckedLines:
    """stdin for the SDK's transport: only JSON-RPC messages get through; the rest are answered here.

    Lines are read by a daemon thread: a thread blocked on stdin would otherwise keep the process
    alive after SIGTERM until the client wrote another line.
    """

    def __init__(self, replies: _LineWriter):
        self._replies = replies
        self._methods = _request_methods()
        self._queue: asyncio.Queue | None = None

    def _read_stdin(self, loop: asyncio.AbstractEventLoop) -> None:
        # os.read, not sys.stdin: a daemon thread parked inside the buffered reader's lock makes
        # the interpreter abort at exit.
        put = self._queue.put_nowait
        pending = b""
        try:
            while chunk := os.read(sys.stdin.fileno(), READ_CHUNK):
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    loop.call_soon_threadsafe(put, line)
            loop.call_soon_threadsafe(put, pending)
            loop.call_soon_threadsafe(put, None)
        except (RuntimeError, OSError, ValueError):
            pass  # the loop has closed (the server is stopping) or stdin went away

    def __aiter__(self):
        return self

    async def __anext__(self) -> str:
        if self._queue is None:
            self._queue = asyncio.Queue()
            reader = threading.Thread(target=self._read_stdin, args=(asyncio.get_running_loop(),), daemon=True)
            reader.start()
        while True:
            raw = await self._queue.get()
            if raw is None:
                raise StopAsyncIteration
            line = raw.decode("utf-8", errors="replace")
            if not line.strip():
                continue
            try:
                message = types.JSONRPCMessage.model_validate_json(line).root
            except ValueError:  # pydantic's ValidationError is a ValueError
                await self._reply(malformed_reply(line))
                continue
            if isinstance(message, types.JSONRPCRequest) and message.method not in self._methods:
                error = {"code": types.METHOD_NOT_FOUND, "message": f"no method {message.method[:100]!r}"}
                await self._reply({"jsonrpc": "2.0", "id": message.id, "error": error})
                continue
            return line

    async def _reply(self, message: dict) -> None:
        await self._replies.write(json.dumps(message) + "\n")


def _run(main) -> None:
    """anyio.run, where SIGTERM (SystemExit, raised by the command's handler) is a normal stop.

    Inside task groups the SystemExit arrives wrapped in an exception group.
    """
    try:
        anyio.run(main)
    except* SystemExit:
        pass


def serve_stdio(server: Server) -> None:
    """Serve one client on stdin/stdout until it closes stdin."""

    async def run() -> None:
        stdout = _LineWriter()
        async with stdio_server(stdin=_CheckedLines(stdout), stdout=stdout) as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    _run(run)


def serve_http(server: Server, sock: socket.socket, settings) -> None:
    """Serve streamable HTTP at /mcp on an already bound socket until SIGTERM or Ctrl-C."""
    import uvicorn
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    # No transport security settings: Guard checks Host and Origin as the HTTP API does (the SDK's own
    # check would know only the hosts and origins listed in code).
    manager = StreamableHTTPSessionManager(app=server, max_request_body_size=MAX_BODY)

    async def endpoint(scope, receive, send) -> None:
        if scope["path"] == MCP_PATH:
            return await manager.handle_request(scope, receive, send)
        body = {"error": f"no endpoint at {scope['path'][:100]}: the MCP endpoint is {MCP_PATH}", "code": "not_found"}
        await respond_json(send, 404, body)

    guarded = Guard(endpoint, settings.api_key, settings.allowed_origins, settings.allowed_hosts)
    config = uvicorn.Config(guarded, lifespan="off", log_level="warning", access_log=False)

    async def run() -> None:
        async with manager.run():
            await uvicorn.Server(config).serve(sockets=[sock])

    _run(run)
