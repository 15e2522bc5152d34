"""The MCP wiring: the SDK's low-level Server over the orchestrator's tools, resources and prompt.

Protocol only, as skills/server/app.py is for HTTP: what each tool or resource does lives in
tools.py and resources.py as plain values; here they become MCP types. The blocking work (a
script worker call) runs in a thread; a call with a progress token gets a notification for each step
of its run (skills/progress.py) and every second in between, and a call the client cancels has its worker process group killed
(Cancellation in skills/gateway/workers.py), so no agent run outlives its request.
transports.py serves the result over stdio or streamable HTTP.

With transports.py, the only module that imports the `mcp` SDK (an optional extra: `.[mcp]`);
the scripts never load it, so their start-up stays as fast as before.
"""

from __future__ import annotations

import functools

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.shared.exceptions import McpError

from skills.contracts import VERSION
from skills.errors import OrchestratorError
from skills.gateway.service import Service
from skills.gateway.workers import Cancellation
from skills.mcp import resources
from skills.mcp.tools import TOOLS, Outcome, ToolSpec, call_tool, check_arguments, progress_message, refusal

SERVER_NAME = "fibreflow-orchestrator"
PROGRESS_INTERVAL_S = 1.0
RESOURCE_NOT_FOUND = -32002  # the MCP specification's code for an unknown resource
INSTRUCTIONS = (
    "FibreFlow's specialised agents: server monitoring (vps-monitor), the PostgreSQL database (neon-database), "
    "the team's Convex tasks (convex-database), contractors (contractor-agent) and rollout projects "
    "(project-agent). Use smart_execute for a question in plain words; route_task to see which agent fits "
    "without running anything; execute_agent to run a chosen agent; list_agents, agent_info and "
    "workforce_stats to see the workforce."
)


def _error(code: int, message: str, data: dict | None = None) -> McpError:
    return McpError(types.ErrorData(code=code, message=message, data=data))


def _tool(spec: ToolSpec) -> types.Tool:
    hints = spec.hints
    return types.Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        inputSchema=spec.input_schema(),
        outputSchema=spec.output,
        annotations=types.ToolAnnotations(
            title=spec.title,
            readOnlyHint=hints.read_only,
            destructiveHint=hints.destructive,
            idempotentHint=hints.idempotent,
            openWorldHint=hints.open_world,
        ),
    )


def _result(outcome: Outcome) -> types.ServerResult:
    return types.ServerResult(
        types.CallToolResult(
            content=[types.TextContent(type="text", text=outcome.text)],
            structuredContent=outcome.structured,
            isError=outcome.is_error,
        )
    )


class _Progress:
    """The progress notifications of one tools/call that asked for them (`_meta.progressToken`).

    `progress` is the seconds since the call began, strictly increasing across both kinds of
    notification: a step of the run (routed, a tool, a piece of the model's text) as it happens,
    and "still running" every second in between.
    """

    def __init__(self, ctx, token, label: str):
        self.ctx, self.token, self.label = ctx, token, label  # every message names the tool it is about
        self.started = anyio.current_time()
        self.last = 0.0

    async def send(self, message: str) -> None:
        value = max(round(anyio.current_time() - self.started, 3), round(self.last + 0.001, 3))
        self.last = value
        await self.ctx.session.send_progress_notification(self.token, value, None, message, str(self.ctx.request_id))

    def on_event(self, event: str, data: dict) -> None:
        """Called in the worker thread for each step: hands it to the event loop and waits until it is sent."""
        try:
            anyio.from_thread.run(self.send, f"{self.label}: {progress_message(event, data)}")
        except (RuntimeError, anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the call is over or its client gone: the run goes on, unwatched

    async def every_second(self, done: anyio.Event) -> None:
        """Until `done`: a sign of life each second, for runs whose steps are far apart."""
        while True:
            with anyio.move_on_after(PROGRESS_INTERVAL_S):
                await done.wait()
            if done.is_set():
                return
            await self.send(f"{self.label}: still running after {anyio.current_time() - self.started:.0f}s")


async def _run_blocking(ctx, label: str, work):
    """`work(cancel, on_event)` in a thread, with progress while it runs; a cancelled request kills what it started."""
    cancel = Cancellation()
    token = ctx.meta.progressToken if ctx.meta else None
    try:
        if token is None:  # the client did not ask for progress
            return await anyio.to_thread.run_sync(work, cancel, None, abandon_on_cancel=True)
        done = anyio.Event()
        progress = _Progress(ctx, token, label)
        async with anyio.create_task_group() as group:
            group.start_soon(progress.every_second, done)
            try:
                return await anyio.to_thread.run_sync(work, cancel, progress.on_event, abandon_on_cancel=True)
            finally:
                done.set()
    except anyio.get_cancelled_exc_class():
        cancel.cancel()  # the thread then sees its worker die and ends; nobody waits for it
        raise


def build_server(service: Service, settings) -> Server:
    server = Server(SERVER_NAME, version=VERSION, instructions=INSTRUCTIONS)
    tool_list = [_tool(spec) for spec in TOOLS.values()]

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return tool_list

    async def call(request: types.CallToolRequest) -> types.ServerResult:
        # Registered directly, not with @server.call_tool(): that wrapper turns every exception,
        # an unknown tool included, into a tool result; an unknown tool is a JSON-RPC error.
        name, arguments = request.params.name, request.params.arguments
        spec = TOOLS.get(name)
        if spec is None:
            raise _error(types.INVALID_PARAMS, f"no tool {name[:100]!r}; tools: {', '.join(TOOLS)}")
        try:
            fields = check_arguments(spec, arguments)
        except OrchestratorError as error:
            return _result(refusal(error))
        work = functools.partial(call_tool, service, spec, fields)
        return _result(await _run_blocking(server.request_context, spec.name, work))

    server.request_handlers[types.CallToolRequest] = call

    @server.list_resources()
    async def list_resources() -> list[types.Resource]:
        found = await anyio.to_thread.run_sync(resources.list_resources, service)
        return [
            types.Resource(
                uri=info.uri, name=info.name, title=info.title, description=info.description, mimeType=resources.JSON
            )
            for info in found
        ]

    @server.list_resource_templates()
    async def list_resource_templates() -> list[types.ResourceTemplate]:
        info = resources.AGENT_TEMPLATE
        return [
            types.ResourceTemplate(
                uriTemplate=info.uri,
                name=info.name,
                title=info.title,
                description=info.description,
                mimeType=resources.JSON,
            )
        ]

    @server.read_resource()
    async def read_resource(uri) -> list[ReadResourceContents]:
        try:
            text = await anyio.to_thread.run_sync(resources.read_resource, service, settings, str(uri))
        except resources.ResourceMissing as missing:
            raise _error(RESOURCE_NOT_FOUND, missing.body["error"], missing.body) from None
        return [ReadResourceContents(content=text, mime_type=resources.JSON)]

    @server.list_prompts()
    async def list_prompts() -> list[types.Prompt]:
        argument = types.PromptArgument(
            name=resources.PROMPT_ARGUMENT, description=resources.PROMPT_ARGUMENT_DESCRIPTION, required=True
        )
        return [
            types.Prompt(
                name=resources.PROMPT_NAME,
                title=resources.PROMPT_TITLE,
                description=resources.PROMPT_DESCRIPTION,
                arguments=[argument],
            )
        ]

    @server.get_prompt()
    async def get_prompt(name: str, arguments: dict | None) -> types.GetPromptResult:
        if name != resources.PROMPT_NAME:
            raise _error(types.INVALID_PARAMS, f"no prompt {name[:100]!r}; prompts: {resources.PROMPT_NAME}")
        try:
            text = resources.ask_fibreflow(arguments)
        except resources.PromptRefused as refused:
            raise _error(types.INVALID_PARAMS, refused.body["error"], refused.body) from None
        message = types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
        return types.GetPromptResult(description=resources.PROMPT_DESCRIPTION, messages=[message])

    return server
