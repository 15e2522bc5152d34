"""Live progress over HTTP and the WebSocket, against the real server and its warm workers.

The SSE client is http.client reading the raw event stream (no SSE library: the wire format is
what is under test); the WebSocket client is websocket-client; the model is the real anthropic
SDK against the Messages API double speaking its streaming wire format.
"""

from __future__ import annotations

import http.client
import json
import time

import pytest
import requests
import websocket  # websocket-client

from tests.fixtures.fake_anthropic import reply_text, reply_tool_use
from tests.fixtures.http_server import start_server

TASK = "Check CPU usage on the server"  # answered on this machine, without an API key
STREAM = {"Accept": "text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(str(tmp_path_factory.mktemp("stream-state")))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def claude_server(tmp_path_factory, _fake_anthropic_server):
    running = start_server(str(tmp_path_factory.mktemp("stream-claude")), **_fake_anthropic_server.env())
    yield running
    running.stop()


def read_events(response: http.client.HTTPResponse) -> list[tuple[str, dict]]:
    """Parse `event:` / `data:` blocks off the raw stream until the server closes it."""
    events, name, data = [], None, []
    for raw in response:
        line = raw.decode("utf-8").rstrip("\n")
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            data.append(line[len("data: ") :])
        elif line == "" and name is not None:
            assert len(data) == 1  # one data line per event: JSON keeps newlines escaped
            events.append((name, json.loads(data[0])))
            name, data = None, []
    return events


def stream(server, path: str, body: dict, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("POST", path, json.dumps(body), {**STREAM, **(headers or {})})
    return conn, conn.getresponse()


def test_streamed_smart_execute_sends_its_steps_then_the_same_json_as_unstreamed(server):
    plain = requests.post(server.url + "/orchestrator/smart-execute", json={"task": TASK}, timeout=30)
    conn, response = stream(server, "/orchestrator/smart-execute", {"task": TASK})
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    assert response.getheader("Cache-Control") == "no-store"
    events = read_events(response)
    conn.close()

    assert [name for name, _ in events] == ["routed", "tool_started", "tool_finished", "done"]
    routed = events[0][1]
    assert (
        routed["agent"] == "vps-monitor" and routed["agent_name"] and routed["status"] in ("routed", "high_confidence")
    )
    assert isinstance(routed["confidence"], int) and isinstance(routed["alternatives"], list)
    assert events[1][1] == {"name": "cpu_usage", "arguments": events[2][1]["arguments"]}
    assert events[2][1]["ok"] is True and events[2][1]["duration_ms"] >= 0
    done = events[-1][1]
    assert done["http_status"] == plain.status_code == 200
    result, expected = done["result"], plain.json()
    assert list(result) == list(expected)  # the same fields, in the same order
    same = ("success", "agent", "agent_name", "mode", "model", "usage", "cost_usd", "confidence", "routing")
    assert {key: result[key] for key in same} == {key: expected[key] for key in same}
    assert [call["name"] for call in result["tool_calls"]] == [call["name"] for call in expected["tool_calls"]]
    assert result["tool_calls"] == [events[2][1] | {"duration_ms": c["duration_ms"]} for c in result["tool_calls"]]
    # the unstreamed answer stays one JSON body: no event lines leak into it
    assert plain.headers["Content-Type"] == "application/json" and "_event" not in plain.text


def test_streamed_execute_names_no_route_and_ends_with_done(server):
    conn, response = stream(
        server, "/orchestrator/execute", {"agent": "vps-monitor", "query": "What is the load average?"}
    )
    events = read_events(response)
    conn.close()
    names = [name for name, _ in events]
    assert "routed" not in names and names[0] == "tool_started" and names[-1] == "done"
    assert events[-1][1]["result"]["agent"] == "vps-monitor" and events[-1][1]["result"]["success"] is True


def test_a_task_no_agent_takes_ends_with_an_error_event_holding_the_suggestions(server):
    conn, response = stream(server, "/orchestrator/smart-execute", {"task": "what a lovely afternoon"})
    events = read_events(response)
    conn.close()
    assert [name for name, _ in events] == ["error"]
    error = events[0][1]
    assert error["http_status"] == 404 and error["result"]["code"] == "no_match"
    assert "suggestions" in error["result"]


def test_an_unknown_agent_is_an_error_event_with_the_404_json(server):
    conn, response = stream(server, "/orchestrator/execute", {"agent": "no-such-agent", "query": "hello"})
    [(name, data)] = read_events(response)
    conn.close()
    assert name == "error" and data["http_status"] == 404 and data["result"]["code"] == "agent_not_found"


def test_a_bad_streamed_request_is_refused_as_json_before_any_event(server):
    conn, response = stream(server, "/orchestrator/smart-execute", {"task": ""})
    body = response.read()
    conn.close()
    assert response.status == 422 and response.getheader("Content-Type") == "application/json"
    assert json.loads(body)["field"] == "task"


def test_a_streamed_request_needs_the_api_key_and_counts_against_the_rate_limit(tmp_path):
    running = start_server(str(tmp_path), ORCHESTRATOR_API_KEY="stream-key", ORCHESTRATOR_RATE_LIMIT="2")
    try:
        conn, refused = stream(running, "/orchestrator/smart-execute", {"task": TASK})
        assert refused.status == 401 and json.loads(refused.read())["code"] == "unauthorized"
        conn.close()
        key = {"Authorization": "Bearer stream-key"}
        conn, allowed = stream(running, "/orchestrator/smart-execute", {"task": TASK}, key)
        assert allowed.status == 200 and read_events(allowed)[-1][0] == "done"
        conn.close()
        statuses = []
        for _ in range(3):
            conn, response = stream(running, "/orchestrator/smart-execute", {"task": TASK}, key)
            statuses.append(response.status)
            response.read()
            conn.close()
        assert 429 in statuses
    finally:
        running.stop()


def test_the_model_path_streams_text_deltas_between_the_tool_steps(claude_server, fake_anthropic):
    fake_anthropic.script(
        [
            reply_tool_use("load_average", {}, text="Let me look at the load."),
            reply_text("The load average is 0.42 over the last minute."),
        ]
    )
    conn, response = stream(
        claude_server, "/orchestrator/execute", {"agent": "vps-monitor", "query": "What is the load average?"}
    )
    events = read_events(response)
    conn.close()
    names = [name for name, _ in events]
    assert names.index("text") < names.index("tool_started") < names.index("tool_finished") < names.index("done")
    assert names[-1] == "done" and names.count("text") > 3
    after_tool = "".join(data["text"] for name, data in events[names.index("tool_finished") :] if name == "text")
    result = events[-1][1]["result"]
    assert after_tool == result["response"] == "The load average is 0.42 over the last minute."
    assert result["mode"] == "claude" and all(body.get("stream") is True for body in fake_anthropic.bodies)


def test_the_unstreamed_model_path_still_makes_plain_calls(claude_server, fake_anthropic):
    fake_anthropic.script([reply_text("The load average is 0.42.")])
    response = requests.post(
        claude_server.url + "/orchestrator/execute",
        json={"agent": "vps-monitor", "query": "What is the load average?"},
        timeout=30,
    )
    assert response.json()["response"] == "The load average is 0.42."
    assert "stream" not in fake_anthropic.bodies[0]


def test_a_client_that_leaves_mid_stream_does_not_stop_the_run_or_the_server(claude_server, fake_anthropic):
    from tests.fixtures.fake_anthropic import delayed

    fake_anthropic.script([reply_tool_use("load_average", {}), delayed(0.5, reply_text("The load is 0.42."))])
    conn, response = stream(
        claude_server, "/orchestrator/execute", {"agent": "vps-monitor", "query": "What is the load average?"}
    )
    response.fp.readline()  # the first line of the first event, then hang up
    conn.close()
    deadline = time.monotonic() + 10
    while fake_anthropic.remaining and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.6)
    fake_anthropic.script([reply_text("still here")])
    after = requests.post(
        claude_server.url + "/orchestrator/execute", json={"agent": "vps-monitor", "query": "load?"}, timeout=30
    )
    assert after.json()["response"] == "still here"


def test_one_process_per_request_streams_the_same_events(tmp_path):
    running = start_server(str(tmp_path), "--one-process-per-request")
    try:
        conn, response = stream(running, "/orchestrator/smart-execute", {"task": TASK})
        names = [name for name, _ in read_events(response)]
        conn.close()
    finally:
        running.stop()
    assert names == ["routed", "tool_started", "tool_finished", "done"]


# --- the WebSocket ------------------------------------------------------------------------------


def ws_url(server, query: str = "") -> str:
    return server.url.replace("http://", "ws://", 1) + "/ws/orchestrator" + query


def test_a_websocket_asking_for_events_gets_each_step_then_the_result_as_before(server):
    conn = websocket.create_connection(ws_url(server, "?events=true"), timeout=30)
    try:
        messages = []
        for task in (TASK, "How much RAM is free on the VPS?"):
            conn.send(task)
            while True:
                message = json.loads(conn.recv())
                messages.append(message)
                if "event" not in message:
                    break
    finally:
        conn.close(timeout=2)
    events = [m["event"] for m in messages if "event" in m]
    results = [m for m in messages if "event" not in m]
    assert events[:3] == ["routed", "tool_started", "tool_finished"] and events.count("routed") == 2
    assert [r["agent"] for r in results] == ["vps-monitor", "vps-monitor"] and all(r["success"] for r in results)
    assert messages[0]["data"]["agent"] == "vps-monitor"


def test_a_websocket_without_events_gets_one_message_per_task(server):
    conn = websocket.create_connection(ws_url(server, "?events=false"), timeout=30)
    try:
        conn.send(TASK)
        first = json.loads(conn.recv())
    finally:
        conn.close(timeout=2)
    assert first["success"] is True and "event" not in first


def test_a_websocket_with_a_bad_events_value_is_refused_with_422(server):
    response = requests.get(ws_url(server, "?events=maybe").replace("ws://", "http://", 1), timeout=10)
    assert response.status_code == 422 and response.json()["field"] == "events"
