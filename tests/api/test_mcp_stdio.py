"""bin/orchestrator_mcp over stdio, driven by the official Python SDK's ClientSession.

Every tool is listed and called; answers are compared with the scripts' own JSON; errors,
bad arguments, resources, the prompt and progress go through the real protocol (cancellation:
the Python SDK 1.x client never sends one, so test_mcp_protocol.py and the TypeScript SDK do).
Executions run vps-monitor on the offline fast path (this machine), the contractor agent against
the test PostgreSQL, and the Claude path against the local Anthropic double.
"""

from __future__ import annotations

import json
import os

import pytest
from mcp.shared.exceptions import McpError

from skills.commands import execute_agent, list_agents, route_task
from tests.fixtures.fake_anthropic import delayed, reply_text
from tests.fixtures.mcp_server import stdio_session
from tests.fixtures.scripts import ROOT

pytestmark = pytest.mark.anyio
TOOLS = {"route_task", "execute_agent", "smart_execute", "list_agents", "agent_info", "workforce_stats"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


def answer(result) -> dict:
    """The structured content, after checking the text content carries the same JSON."""
    text = json.loads(result.content[0].text)
    assert result.structuredContent == ({"agents": text} if isinstance(text, list) else text)
    return result.structuredContent


# --- tools: listed, described, called -----------------------------------------------------------


async def test_every_script_is_a_tool_with_schemas_and_honest_annotations(script_env):
    async with stdio_session(script_env) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.title and tool.description
        assert tool.inputSchema["type"] == "object" and tool.outputSchema["type"] == "object"
    # input schemas follow the scripts' options
    assert set(tools["route_task"].inputSchema["properties"]) == {option.name for option in route_task.OPTIONS}
    assert tools["route_task"].inputSchema["required"] == ["task"]
    assert tools["route_task"].inputSchema["properties"]["task"]["maxLength"] == 5000
    assert set(tools["list_agents"].inputSchema["properties"]) == {o.name for o in list_agents.OPTIONS}
    assert tools["execute_agent"].inputSchema["required"] == ["agent", "query"]
    assert "direct" in {o.name for o in execute_agent.OPTIONS} & set(tools["smart_execute"].inputSchema["properties"])
    # reading tools say so; running an agent may write (Convex tasks) and reaches other systems
    for name in ("route_task", "list_agents", "agent_info", "workforce_stats"):
        assert tools[name].annotations.readOnlyHint is True
    for name in ("execute_agent", "smart_execute"):
        hints = tools[name].annotations
        assert hints.readOnlyHint is False and hints.destructiveHint is True and hints.openWorldHint is True


async def test_route_task_answers_with_the_same_json_as_the_script(script_env, script):
    task = "Check CPU usage on the server"
    async with stdio_session(script_env) as session:
        result = await session.call_tool("route_task", {"task": task, "auto_select": True})
        no_match = await session.call_tool("route_task", {"task": "what a lovely afternoon"})
    body = answer(result)
    expected = script("route_task", "--task", task, "--auto-select").json
    body.pop("execution_time_ms"), expected.pop("execution_time_ms")
    assert result.isError is False and body == expected
    assert no_match.isError is False and answer(no_match)["status"] == "no_match"  # an answer, not an error


async def test_listing_tools_answer_like_their_scripts(script_env, script):
    async with stdio_session(script_env) as session:
        agents = answer(await session.call_tool("list_agents", {"category": "database"}))
        info = answer(await session.call_tool("agent_info", {"agent": "convex-database"}))
        stats = answer(await session.call_tool("workforce_stats", {"since": "7d"}))
    assert agents == {"agents": script("list_agents", "--category", "database").json}
    assert info == script("agent_info", "--agent", "convex-database").json
    assert info["configured"] is False and "CONVEX_URL" in info["message"]
    assert stats["total_agents"] == 5 and "agents" in stats


async def test_execute_agent_runs_vps_monitor_on_this_machine(script_env):
    async with stdio_session(script_env) as session:
        result = await session.call_tool(
            "execute_agent", {"agent": "vps-monitor", "query": "What is the load average?"}
        )
    body = answer(result)
    assert result.isError is False and body["success"] is True and body["agent"] == "vps-monitor"
    assert "load" in body["response"].lower() and body["tool_calls"]


async def test_smart_execute_routes_and_runs_the_contractor_agent_on_postgresql(state_dir, pg_url):
    from tests.fixtures.scripts import clean_env

    env = clean_env(state_dir, NEON_DATABASE_URL=pg_url)
    async with stdio_session(env) as session:
        result = await session.call_tool("smart_execute", {"task": "How many active subcontractors do we have?"})
        recent = await session.read_resource("orchestrator://executions/recent")
    body = answer(result)
    assert result.isError is False and body["agent"] == "contractor-agent"
    assert body["routing"]["status"] in ("routed", "high_confidence") and body["sql"].lower().startswith("select")
    (row,) = body["data"]  # the count: one row of one value
    assert next(iter(row.values())) > 0
    runs = json.loads(recent.contents[0].text)["executions"]
    assert runs[0]["agent"] == "contractor-agent" and runs[0]["success"] is True
    assert runs[0]["query"] == "How many active subcontractors do we have?"


# --- errors -----------------------------------------------------------------------------------


async def test_script_errors_become_tool_errors_with_the_same_code_and_field(script_env, script):
    async with stdio_session(script_env) as session:
        unknown = await session.call_tool("execute_agent", {"agent": "no-such-agent", "query": "hello"})
        unconfigured = await session.call_tool("execute_agent", {"agent": "neon-database", "query": "list tables"})
        no_match = await session.call_tool("smart_execute", {"task": "what a lovely afternoon"})
        category = await session.call_tool("list_agents", {"category": "kitchen"})
    assert unknown.isError is True
    expected = script("execute_agent", "--agent", "no-such-agent", "--query", "hello").json
    assert answer(unknown) == expected and expected["code"] == "agent_not_found" and expected["field"] == "agent"
    assert unconfigured.isError is True and answer(unconfigured)["code"] == "agent_not_configured"
    assert no_match.isError is True and answer(no_match)["code"] == "no_match"
    assert category.isError is True and answer(category) == script("list_agents", "--category", "kitchen").json


BAD_ARGUMENTS = [  # tool, arguments, the field the error names, words the message holds
    ("route_task", {"task": 5}, "task", "must be a string"),
    ("route_task", {"task": "Check CPU", "auto_select": "yes"}, "auto_select", "true or false"),
    ("route_task", {"task": "Check CPU", "context": "monitoring"}, "context", "JSON object"),
    ("route_task", {}, "task", "is required"),
    ("route_task", {"task": "   "}, "task", "must not be empty"),
    ("route_task", {"task": "x" * 5001}, "task", "5001 characters; the limit is 5000"),
    ("smart_execute", {"task": "y" * 6000}, "task", "6000 characters; the limit is 5000"),
    ("execute_agent", {"agent": "vps-monitor", "querry": "CPU?"}, "querry", "takes no argument"),
    ("agent_info", {"agent": ["vps-monitor"]}, "agent", "must be a string"),
]


async def test_bad_arguments_are_tool_errors_naming_the_field(script_env):
    async with stdio_session(script_env) as session:
        results = [await session.call_tool(tool, arguments) for tool, arguments, _, _ in BAD_ARGUMENTS]
        still_up = await session.call_tool("route_task", {"task": "Check CPU usage"})
    for (tool, _, field, words), result in zip(BAD_ARGUMENTS, results, strict=True):
        body = answer(result)
        assert result.isError is True and body["code"] == "bad_input", tool
        assert body["field"] == field and words in body["error"], body
    assert still_up.isError is False


async def test_a_task_of_exactly_5000_characters_is_accepted(script_env):
    async with stdio_session(script_env) as session:
        result = await session.call_tool("route_task", {"task": "check cpu " * 500})
    assert result.isError is False and answer(result)["status"] in ("routed", "high_confidence")


async def test_an_unknown_tool_is_a_jsonrpc_error_and_the_server_stays_up(script_env):
    async with stdio_session(script_env) as session:
        with pytest.raises(McpError) as raised:
            await session.call_tool("drop_database", {})
        after = await session.call_tool("list_agents", {})
    assert raised.value.error.code == -32602 and "route_task" in raised.value.error.message
    assert after.isError is False


# --- resources and the prompt ------------------------------------------------------------------


async def test_agent_resources_carry_the_registry_entries_and_configuration(script_env, script):
    async with stdio_session(script_env) as session:
        listed = {str(resource.uri) for resource in (await session.list_resources()).resources}
        templates = (await session.list_resource_templates()).resourceTemplates
        agents = await session.read_resource("orchestrator://agents")
        one = await session.read_resource("orchestrator://agents/vps-monitor")
        with pytest.raises(McpError) as missing:
            await session.read_resource("orchestrator://agents/no-such-agent")
    assert {"orchestrator://agents", "orchestrator://executions/recent", "orchestrator://agents/vps-monitor"} <= listed
    assert [t.uriTemplate for t in templates] == ["orchestrator://agents/{id}"]
    assert json.loads(agents.contents[0].text) == script("list_agents").json
    assert agents.contents[0].mimeType == "application/json"
    assert json.loads(one.contents[0].text) == script("agent_info", "--agent", "vps-monitor").json
    assert missing.value.error.code == -32002 and missing.value.error.data["code"] == "agent_not_found"


async def test_recent_executions_come_from_the_ledger_newest_first(script_env):
    async with stdio_session(script_env) as session:
        empty = json.loads((await session.read_resource("orchestrator://executions/recent")).contents[0].text)
        await session.call_tool("execute_agent", {"agent": "vps-monitor", "query": "uptime"})
        await session.call_tool("execute_agent", {"agent": "no-such-agent", "query": "hello"})
        await session.call_tool("execute_agent", {"agent": "vps-monitor", "query": "disk usage"})
        runs = json.loads((await session.read_resource("orchestrator://executions/recent")).contents[0].text)
    assert empty == {"executions": []}
    assert [run["query"] for run in runs["executions"]] == ["disk usage", "uptime"]  # an unknown agent never ran
    assert all(run["agent"] == "vps-monitor" and run["mode"] == "direct" for run in runs["executions"])


async def test_ask_fibreflow_prompt_wraps_smart_execute(script_env):
    async with stdio_session(script_env) as session:
        prompts = (await session.list_prompts()).prompts
        prompt = await session.get_prompt("ask_fibreflow", {"task": "Is the disk nearly full?"})
        with pytest.raises(McpError) as missing:
            await session.get_prompt("ask_fibreflow", {})
        with pytest.raises(McpError) as too_long:
            await session.get_prompt("ask_fibreflow", {"task": "z" * 5001})
    assert [(p.name, [a.name for a in p.arguments]) for p in prompts] == [("ask_fibreflow", ["task"])]
    text = prompt.messages[0].content.text
    assert prompt.messages[0].role == "user" and "smart_execute" in text and "Is the disk nearly full?" in text
    assert missing.value.error.code == -32602 and missing.value.error.data["field"] == "task"
    assert "limit is 5000" in too_long.value.error.message


# --- long runs ------------------------------------------------------------------------------------


async def test_a_run_over_a_second_reports_progress(state_dir, fake_anthropic):
    from tests.fixtures.scripts import clean_env

    fake_anthropic.script([delayed(2.6, reply_text("The load average is 0.42."))])
    env = clean_env(state_dir, **fake_anthropic.env())
    updates = []

    async def on_progress(progress, total, message):
        updates.append((progress, message))

    async with stdio_session(env) as session:
        result = await session.call_tool(
            "execute_agent",
            {"agent": "vps-monitor", "query": "What is the load average?"},
            progress_callback=on_progress,
        )
        quick = []
        await session.call_tool("route_task", {"task": "Check CPU"}, progress_callback=lambda *a: quick.append(a))
    body = answer(result)
    assert body["success"] is True and body["mode"] == "claude" and body["response"] == "The load average is 0.42."
    assert len(updates) >= 2 and [p for p, _ in updates] == sorted(p for p, _ in updates)
    assert all("execute_agent" in message for _, message in updates)
    assert quick == []  # a quick call sends none


# --- set-up for users --------------------------------------------------------------------------


def mcp_json_entry() -> dict:
    with open(os.path.join(ROOT, ".mcp.json"), encoding="utf-8") as handle:
        return json.load(handle)["mcpServers"]["fibreflow-orchestrator"]


async def test_the_mcp_json_entry_starts_a_working_server(script_env):
    entry = mcp_json_entry()
    assert not os.path.isabs(entry["command"])  # relative to the project, as Claude Code starts it there
    async with stdio_session({**script_env, **entry.get("env", {})}, [entry["command"], *entry["args"]]) as session:
        result = await session.call_tool("route_task", {"task": "How many active contractors do we have?"})
    assert answer(result)["agent"]["agent_id"] == "contractor-agent"
