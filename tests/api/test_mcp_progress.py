"""MCP progress notifications for each step of an agent run, through the real protocol (stdio)."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.fake_anthropic import reply_text, reply_tool_use
from tests.fixtures.mcp_server import stdio_session
from tests.fixtures.scripts import clean_env

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def call_watched(env: dict, tool: str, arguments: dict) -> tuple[dict, list[tuple[float, str]]]:
    updates = []

    async def on_progress(progress, total, message):
        updates.append((progress, message))

    async with stdio_session(env) as session:
        result = await session.call_tool(tool, arguments, progress_callback=on_progress)
    return json.loads(result.content[0].text), updates


async def test_smart_execute_with_a_progress_token_reports_each_step(script_env):
    body, updates = await call_watched(script_env, "smart_execute", {"task": "Check CPU usage on the server"})
    assert body["success"] is True and body["agent"] == "vps-monitor"
    messages = [message for _, message in updates]
    assert messages[0].startswith("smart_execute: routed: vps-monitor (confidence ")
    assert messages[1:3] == ["smart_execute: tool_started: cpu_usage", messages[2]]
    assert messages[2].startswith("smart_execute: tool_finished: cpu_usage ok in ")
    progress = [value for value, _ in updates]
    assert progress == sorted(progress) and len(set(progress)) == len(progress)  # strictly increasing


async def test_execute_agent_on_the_model_path_reports_the_text_as_it_streams(state_dir, fake_anthropic):
    fake_anthropic.script([reply_tool_use("load_average", {}), reply_text("The load average is 0.42 right now.")])
    env = clean_env(state_dir, **fake_anthropic.env())
    body, updates = await call_watched(
        env, "execute_agent", {"agent": "vps-monitor", "query": "What is the load average?"}
    )
    messages = [message for _, message in updates]
    texts = [m.removeprefix("execute_agent: text: ") for m in messages if m.startswith("execute_agent: text: ")]
    assert "".join(texts) == body["response"] == "The load average is 0.42 right now."
    assert messages.index("execute_agent: tool_started: load_average") < messages.index(
        "execute_agent: text: " + texts[0]
    )


async def test_a_call_without_a_progress_token_still_answers_the_same(script_env):
    async with stdio_session(script_env) as session:
        result = await session.call_tool("smart_execute", {"task": "Check CPU usage on the server"})
    assert json.loads(result.content[0].text)["agent"] == "vps-monitor"
