"""The MCP wiring: the SDK's low-level Server over the orchestrator's tools, resources and prompt.

Protocol only, as skills/server/app.py is for HTTP: what each tool or resource does lives in
tools.py and resources.py as plain values; here they become MCP types. The blocking work (a
script worker call) runs in a thread; a call that takes over a second sends progress
notifications every second, and a call the client cancels has its worker process group killed
(Cancellation in skills/server/workers.py), so no agent run outlives its request.

This is the only module that imports the `mcp` SDK (an optional extra: `.[mcp]`); the scripts
never load it, so their start-up stays as fast as before.
"""

from __future__ import annotations

import functools
import io
import json
import socket
import sys

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage

from skills.mcp import resources
from skills.mcp.http import Guard
from skills.mcp.tools import TOOLS, Outcome, ToolSpec, call_tool, check_arguments, refusal
from skills.server.service import Service
from skills.server.validation import ApiError
from skills.server.workers import Cancellation

SERVER_NAME = "fibreflow-orchestrator"
SERVER_TITLE = "FibreFlow Orchestrator"
VERSION = "0.1.0"
PROGRESS_INTERVAL_S = 1.0
RESOURCE_NOT_FOUND = -32002  # the MCP specification's code for an unknown resource
MCP_PATH = "/mcp"
MAX_BODY = 1024 * 1024  # a task is at most 5,000 characters; the SDK's default is 4 MiB
INSTRUCTIONS = (
    "FibreFlow's specialised agents: server monitoring (vps-monitor), the PostgreSQL database (neon-database), "
    "the team's Convex tasks (convex-database), contractors (contractor-agent) and rollout projects "
    "(project-agent). Use smart_execute for a question in plain words; route_task to see which agent fits "
    "without running anything; execute_agent to run a chosen agent; list_agents, agent_info and "
    "workforce_stats to see the workforce."
)


def _tool(spec: ToolSpec) -> types.Tool:
    hints = spec.hints
    return types.Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.input_schema(),
        output_schema=spec.output,
        annotations=types.ToolAnnotations(
            title=spec.title,
            read_only_hint=hints.read_only,
            destructive_hint=hints.destructive,
            idempotent_hint=hints.idempotent,
            open_world_hint=hints.open_world,
        ),
    )


def _result(outcome: Outcome) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=outcome.text)],
        structured_content=outcome.structured,
        is_error=outcome.is_error,
    )


async def _report_progress(ctx, label: str, done: anyio.Event) -> None:
    """Every second until `done`: progress = seconds elapsed (no total: an agent run has no known length)."""
    started = anyio.current_time()
    while True:
        with anyio.move_on_after(PROGRESS_INTERVAL_S):
            await done.wait()
        if done.is_set():
            return
        elapsed = anyio.current_time() - started
        await ctx.session.report_progress(round(elapsed, 1), None, f"{label}: still running after {elapsed:.0f}s")


async def _run_blocking(ctx, label: str, work):
    """`work(cancel)` in a thread, with progress while it runs; a cancelled request kills what it started."""
    cancel = Cancellation()
    done = anyio.Event()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_report_progress, ctx, label, done)
            try:
                return await anyio.to_thread.run_sync(work, cancel, abandon_on_cancel=True)
            finally:
                done.set()
    except anyio.get_cancelled_exc_class():
        cancel.cancel()  # the thread then sees its worker die and ends; nobody waits for it
        raise


def build_server(service: Service, settings) -> Server:
    tool_list = [_tool(spec) for spec in TOOLS.values()]

    async def on_list_tools(ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_list)

    async def on_call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = TOOLS.get(params.name)
        if spec is None:
            known = ", ".join(TOOLS)
            raise MCPError(types.INVALID_PARAMS, f"no tool {params.name[:100]!r}; tools: {known}")
        try:
            fields = check_arguments(spec, params.arguments)
        except ApiError as error:
            return _result(refusal(error))
        work = functools.partial(call_tool, service, spec, fields)
        return _result(await _run_blocking(ctx, spec.name, work))

    async def on_list_resources(ctx, params) -> types.ListResourcesResult:
        found = await anyio.to_thread.run_sync(resources.list_resources, service)
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=info.uri,
                    name=info.name,
                    title=info.title,
                    description=info.description,
                    mime_type=resources.JSON,
                )
                for info in found
            ]
        )

    async def on_list_resource_templates(ctx, params) -> types.ListResourceTemplatesResult:
        info = resources.AGENT_TEMPLATE
        template = types.ResourceTemplate(
            uri_template=info.uri,
            name=info.name,
            title=info.title,
            description=info.description,
            mime_type=resources.JSON,
        )
        return types.ListResourceTemplatesResult(resource_templates=[template])

    async def on_read_resource(ctx, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        try:
            text = await anyio.to_thread.run_sync(resources.read_resource, service, settings, uri)
        except resources.ResourceMissing as missing:
            raise MCPError(RESOURCE_NOT_FOUND, missing.body["error"], data=missing.body) from None
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type=resources.JSON, text=text)]
        )

    async def on_list_prompts(ctx, params) -> types.ListPromptsResult:
        argument = types.PromptArgument(
            name=resources.PROMPT_ARGUMENT, description=resources.PROMPT_ARGUMENT_DESCRIPTION, required=True
        )
        prompt = types.Prompt(
            name=resources.PROMPT_NAME,
            title=resources.PROMPT_TITLE,
            description=resources.PROMPT_DESCRIPTION,
            arguments=[argument],
        )
        return types.ListPromptsResult(prompts=[prompt])

    async def on_get_prompt(ctx, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != resources.PROMPT_NAME:
            raise MCPError(types.INVALID_PARAMS, f"no prompt {params.name[:100]!r}; prompts: {resources.PROMPT_NAME}")
        try:
            text = resources.ask_fibreflow(params.arguments)
        except resources.PromptRefused as refused:
            raise MCPError(types.INVALID_PARAMS, refused.body["error"], data=refused.body) from None
        message = types.PromptMessage(role="user", content=types.TextContent(text=text))
        return types.GetPromptResult(description=resources.PROMPT_DESCRIPTION, messages=[message])

    server = Server(
        SERVER_NAME,
        version=VERSION,
        title=SERVER_TITLE,
        instructions=INSTRUCTIONS,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
        on_list_resources=on_list_resources,
        on_list_resource_templates=on_list_resource_templates,
        on_read_resource=on_read_resource,
        on_list_prompts=on_list_prompts,
        on_get_prompt=on_get_prompt,
    )
    server.middleware = []  # the SDK's OpenTelemetry span per message: no exporter here, so only a cost
    return server


def _malformed_reply(line: str) -> types.JSONRPCError:
    """The JSON-RPC error for a line that is not a JSON-RPC message: parse error, or invalid request."""
    try:
        message = json.loads(line)
    except ValueError as exc:
        error = types.ErrorData(code=types.PARSE_ERROR, message=f"not JSON: {exc}")
        return types.JSONRPCError(jsonrpc="2.0", id=None, error=error)
    request_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, (str, int)):
        request_id = None
    text = 'not a JSON-RPC 2.0 message: it needs jsonrpc "2.0", a method (with an object as params) or a result'
    return types.JSONRPCError(
        jsonrpc="2.0", id=request_id, error=types.ErrorData(code=types.INVALID_REQUEST, message=text)
    )


class _CheckedStdin:
    """stdin lines for the SDK's stdio transport, which drops a malformed line without a word.

    Here such a line is answered with a JSON-RPC error (so a client waiting on that id learns why),
    and the server carries on with the next line.
    """

    def __init__(self):
        self._lines = anyio.wrap_file(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace"))
        self.replies = None  # the transport's write stream, set once it exists

    def __aiter__(self):
        return self

    async def __anext__(self) -> str:
        while True:
            line = await self._lines.readline()
            if not line:
                raise StopAsyncIteration
            if not line.strip():
                continue
            try:
                types.jsonrpc_message_adapter.validate_json(line, by_name=False)
            except ValueError:  # pydantic's ValidationError is a ValueError
                await self.replies.send(SessionMessage(_malformed_reply(line)))
                continue
            return line


def serve_stdio(server: Server) -> None:
    """Serve one client on stdin/stdout until it closes stdin."""

    async def run() -> None:
        stdin = _CheckedStdin()
        async with stdio_server(stdin=stdin) as (read_stream, write_stream):
            stdin.replies = write_stream
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(run)


def serve_http(server: Server, sock: socket.socket, settings) -> None:
    """Serve streamable HTTP at /mcp on an already bound socket until SIGTERM or Ctrl-C."""
    import uvicorn

    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        # Origin is checked by Guard against ALLOWED_ORIGINS; the SDK's own check knows only loopback origins.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        max_request_body_size=MAX_BODY,
    )
    guarded = Guard(app, settings.api_key, settings.allowed_origins)
    config = uvicorn.Config(guarded, log_level="warning", lifespan="on", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
