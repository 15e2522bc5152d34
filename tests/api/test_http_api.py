"""The HTTP API through real HTTP: each endpoint's answers and refusals, auth, CORS, rate limit,
metrics and the log file. One server per module for the read-mostly tests; tests that need
other settings start their own."""

from __future__ import annotations

import json
import socket

import pytest
import requests

from tests.fixtures.http_server import start_server

JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    state = tmp_path_factory.mktemp("http-api-state")
    running = start_server(str(state), ALLOWED_ORIGINS="http://localhost:3000,https://app.example")
    yield running
    running.stop()


def post(server, path: str, body, headers: dict | None = None) -> requests.Response:
    return requests.post(server.url + path, data=json.dumps(body), headers={**JSON_HEADERS, **(headers or {})})


# --- routing ---------------------------------------------------------------------------------


def test_route_answers_in_the_guides_shape(server):
    response = post(server, "/orchestrator/route", {"task": "Check CPU usage on the server", "auto_select": True})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in ("routed", "high_confidence")
    assert body["agent"]["agent_id"] == "vps-monitor"
    assert body["agent"]["agent_name"] == "VPS Monitor Agent"
    assert isinstance(body["agent"]["confidence"], int)
    assert "cpu" in body["agent"]["matched_keywords"]
    assert body["execution_time_ms"] >= 0


def test_route_with_no_matching_agent_is_an_answer_not_an_error(server):
    response = post(server, "/orchestrator/route", {"task": "what a lovely afternoon"})
    assert response.status_code == 200
    assert response.json()["status"] == "no_match"
    assert response.json()["agent"] is None


# --- execution (offline vps-monitor on this machine; other agents need fixtures) ----------------


def test_execute_runs_the_named_agent(server):
    response = post(server, "/orchestrator/execute", {"agent": "vps-monitor", "query": "What is the load average?"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["agent"] == "vps-monitor"
    assert "load" in body["response"].lower()
    assert [call["name"] for call in body["tool_calls"]]


def test_execute_with_an_unknown_agent_is_404_naming_the_agent(server):
    response = post(server, "/orchestrator/execute", {"agent": "no-such-agent", "query": "hello"})
    assert response.status_code == 404
    assert response.json()["code"] == "agent_not_found"
    assert response.json()["field"] == "agent"


def test_execute_about_a_server_that_is_not_configured_is_404_naming_it(server):
    response = post(server, "/orchestrator/execute", {"agent": "vps-monitor", "query": "Disk usage on server web7"})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found" and body["field"] == "server"
    assert "'web7'" in body["error"] and body["details"]["closest"] == ["localhost"]


def test_smart_execute_routes_then_answers(server):
    response = post(server, "/orchestrator/smart-execute", {"task": "Show me server health metrics"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["agent"] == "vps-monitor" and body["agent_name"] == "VPS Monitor Agent"
    assert body["response"]


def test_smart_execute_for_an_unconfigured_agent_is_503_saying_what_to_set(server):
    response = post(server, "/orchestrator/smart-execute", {"task": "How many active contractors?"})
    assert response.status_code == 503
    assert response.json()["code"] == "agent_not_configured"
    assert "NEON_DATABASE_URL" in response.json()["error"]


def test_smart_execute_with_no_matching_agent_is_404_no_match(server):
    response = post(server, "/orchestrator/smart-execute", {"task": "what a lovely afternoon"})
    assert response.status_code == 404
    assert response.json()["success"] is False and response.json()["code"] == "no_match"


# --- agents, stats, health ------------------------------------------------------------------


def test_agents_is_a_json_list_in_the_guides_shape(server):
    response = requests.get(server.url + "/orchestrator/agents")
    assert response.status_code == 200
    agents = response.json()
    assert isinstance(agents, list) and len(agents) == 5
    assert {"id", "name", "description", "status", "triggers", "model", "cost_per_query"} <= set(agents[0])


def test_agents_filters_by_category(server):
    agents = requests.get(server.url + "/orchestrator/agents", params={"category": "database"}).json()
    assert agents and {agent["category"] for agent in agents} == {"database"}


def test_agent_info_and_unknown_agent(server):
    response = requests.get(server.url + "/orchestrator/agents/vps-monitor")
    assert response.status_code == 200 and response.json()["id"] == "vps-monitor"
    missing = requests.get(server.url + "/orchestrator/agents/nobody")
    assert missing.status_code == 404 and missing.json()["code"] == "agent_not_found"


def test_stats_in_the_guides_shape(server):
    body = requests.get(server.url + "/orchestrator/stats").json()
    assert body["total_agents"] == 5
    assert body["categories"]["infrastructure"] == 1
    assert body["average_cost"].startswith("$")
    assert "operational_status" in body["summary"]


def test_health_reports_registry_ledger_and_each_agents_configuration(server):
    response = requests.get(server.url + "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["registry"] == {"loaded": True, "agents": 5}
    assert body["ledger"]["writable"] is True
    configured = {agent["id"]: agent["configured"] for agent in body["agents"]}
    assert configured["vps-monitor"] is True and configured["neon-database"] is False


def test_page_and_openapi_are_served(server):
    page = requests.get(server.url + "/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    spec = requests.get(server.url + "/openapi.json")
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.1")


# --- input validation -------------------------------------------------------------------------


def test_a_body_that_is_not_json_is_415(server):
    response = requests.post(
        server.url + "/orchestrator/route", data="task=hello", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type" and response.json()["field"] == "Content-Type"


def test_malformed_json_is_400(server):
    response = requests.post(server.url + "/orchestrator/route", data="{task: ", headers=JSON_HEADERS)
    assert response.status_code == 400 and response.json()["code"] == "bad_json"


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/orchestrator/route", {}, "task"),
        ("/orchestrator/route", {"task": 42}, "task"),
        ("/orchestrator/route", {"task": "   "}, "task"),
        ("/orchestrator/route", {"task": "x" * 5001}, "task"),
        ("/orchestrator/route", {"task": "cpu", "auto_select": "yes"}, "auto_select"),
        ("/orchestrator/route", {"task": "cpu", "context": ["page"]}, "context"),
        ("/orchestrator/route", ["cpu"], "body"),
        ("/orchestrator/execute", {"agent": "vps-monitor"}, "query"),
        ("/orchestrator/execute", {"agent": "vps-monitor", "query": "q" * 5001}, "query"),
        ("/orchestrator/smart-execute", {"task": None}, "task"),
        ("/orchestrator/batch", ["cpu", 7], "tasks[1]"),
        ("/orchestrator/batch", {"tasks": []}, "tasks"),
    ],
)
def test_missing_wrong_typed_or_too_long_fields_are_422_naming_the_field(server, path, body, field):
    response = post(server, path, body)
    assert response.status_code == 422
    assert response.json()["code"] == "bad_input"
    assert response.json()["field"] == field


def test_a_task_of_exactly_5000_characters_is_accepted(server):
    assert post(server, "/orchestrator/route", {"task": "server " + "x" * 4993}).status_code == 200


def test_a_chunked_body_is_read_like_any_other(server):
    chunks = iter([b'{"task": "Check CPU usage', b' on the server"}'])
    response = requests.post(server.url + "/orchestrator/route", data=chunks, headers=JSON_HEADERS)
    assert response.status_code == 200 and response.json()["task"] == "Check CPU usage on the server"
    huge = iter([b'{"task": "cpu", "context": {"blob": "'] + [b"x" * 65536] * 5 + [b'"}}'])
    assert requests.post(server.url + "/orchestrator/route", data=huge, headers=JSON_HEADERS).status_code == 413


def test_a_body_over_the_limit_is_413(server):
    response = post(server, "/orchestrator/route", {"task": "cpu", "context": {"blob": "x" * 300_000}})
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"


def test_unknown_path_is_404_and_wrong_method_is_405_with_allow(server):
    missing = requests.get(server.url + "/orchestrator/nothing-here")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong = requests.get(server.url + "/orchestrator/route")
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST, OPTIONS"
    assert wrong.json()["code"] == "method_not_allowed"
    assert requests.delete(server.url + "/orchestrator/agents").status_code == 405


def test_a_refused_request_leaves_the_kept_alive_connection_usable(server):
    with requests.Session() as session:
        first = session.post(server.url + "/orchestrator/route", data="x", headers={"Content-Type": "text/plain"})
        second = session.post(server.url + "/orchestrator/route", json={"task": "cpu load"})
    assert first.status_code == 415 and second.status_code == 200


def test_any_other_method_is_405_and_its_body_does_not_leak_into_the_next_request(server):
    with requests.Session() as session:
        traced = session.request("TRACE", server.url + "/orchestrator/route", json={"task": "cpu"})
        queried = session.request("QUERY", server.url + "/orchestrator/agents", json={"category": "x"})
        after = session.get(server.url + "/orchestrator/agents")
    assert traced.status_code == 405 and traced.json()["code"] == "method_not_allowed"
    assert queried.status_code == 405 and queried.headers["Allow"] == "GET, OPTIONS"
    assert after.status_code == 200


def test_a_request_http_server_itself_refuses_still_gets_a_json_error(server):
    headers = b"".join(b"X-Filler-%d: y\r\n" % index for index in range(120))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n" + headers + b"\r\n")
        reply = b"".join(iter(lambda: sock.recv(65536), b"")).decode("utf-8", "replace")  # until it closes
    assert reply.startswith("HTTP/1.1 431")
    assert "Content-Type: application/json" in reply and '"code": "http_431"' in reply


# --- CORS ---------------------------------------------------------------------------------------


def test_cors_preflight_from_an_allowed_origin(server):
    response = requests.options(
        server.url + "/orchestrator/smart-execute",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in response.headers["Vary"]


def test_cors_headers_on_an_ordinary_answer_to_an_allowed_origin(server):
    response = post(server, "/orchestrator/route", {"task": "cpu"}, {"Origin": "https://app.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert response.headers["Access-Control-Allow-Origin"] != "*"
    assert "Origin" in response.headers["Vary"]


def test_an_origin_not_listed_gets_no_cors_headers(server):
    preflight = requests.options(
        server.url + "/orchestrator/route",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    answer = post(server, "/orchestrator/route", {"task": "cpu"}, {"Origin": "https://evil.example"})
    for response in (preflight, answer):
        assert not any(name.lower().startswith("access-control-") for name in response.headers)


# --- metrics and the log --------------------------------------------------------------------------


def _metric(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


def test_metrics_counters_move_with_requests(server):
    before = requests.get(server.url + "/metrics").text
    post(server, "/orchestrator/route", {"task": "Check CPU usage on the server"})
    post(server, "/orchestrator/route", {"task": 1})
    post(server, "/orchestrator/execute", {"agent": "vps-monitor", "query": "What is the load average?"})
    requests.get(server.url + "/orchestrator/agents")
    response = requests.get(server.url + "/metrics")
    after = response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    ok = 'orchestrator_http_requests_total{endpoint="/orchestrator/route",method="POST",status="200"}'
    assert _metric(after, ok) == _metric(before, ok) + 1
    err = 'orchestrator_http_errors_total{endpoint="/orchestrator/route",status="422"}'
    assert _metric(after, err) == _metric(before, err) + 1
    runs = 'orchestrator_executions_total{agent="vps-monitor",outcome="success"}'
    assert _metric(after, runs) == _metric(before, runs) + 1
    assert _metric(after, "orchestrator_routing_total{") > _metric(before, "orchestrator_routing_total{")
    count = 'orchestrator_http_request_duration_seconds_count{endpoint="/orchestrator/route"}'
    assert _metric(after, count) == _metric(before, count) + 2
    hits = "orchestrator_cache_hits_total{" + 'cache="agents"}'
    misses = "orchestrator_cache_misses_total{" + 'cache="agents"}'
    assert _metric(after, hits) + _metric(after, misses) == _metric(before, hits) + _metric(before, misses) + 1


def test_log_lines_follow_the_guide_and_cut_the_task_short(server):
    long_task = "Check CPU usage on the server " + "and more words " * 20
    post(server, "/orchestrator/route", {"task": long_task})
    post(server, "/orchestrator/execute", {"agent": "vps-monitor", "query": "What is the load average?"})
    with open(server.log_path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    routed = [line for line in lines if " - INFO - Routed task in " in line]
    assert routed and "| Task: Check CPU usage on the server and more" in routed[-1]
    assert "ms | Status: " in routed[-1]
    assert long_task not in routed[-1] and routed[-1].endswith("...")
    assert any(" - INFO - Executed via vps-monitor in " in line and "| Success: True" in line for line in lines)


# --- auth ------------------------------------------------------------------------------------------


@pytest.fixture
def keyed_server(state_dir):
    running = start_server(state_dir, ORCHESTRATOR_API_KEY="s3cret-key-for-tests")
    yield running
    running.stop()


def test_with_an_api_key_requests_without_it_are_401(keyed_server):
    missing = post(keyed_server, "/orchestrator/route", {"task": "cpu"})
    wrong = post(keyed_server, "/orchestrator/route", {"task": "cpu"}, {"Authorization": "Bearer nope"})
    right = post(keyed_server, "/orchestrator/route", {"task": "cpu"}, {"Authorization": "Bearer s3cret-key-for-tests"})
    assert missing.status_code == 401 and missing.json()["code"] == "unauthorized"
    assert missing.json()["field"] == "Authorization" and "Bearer" in missing.headers["WWW-Authenticate"]
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert requests.get(keyed_server.url + "/orchestrator/agents").status_code == 401
    assert requests.get(keyed_server.url + "/metrics").status_code == 401
    assert requests.get(keyed_server.url + "/no/such/path").status_code == 401  # strangers learn nothing


def test_with_an_api_key_health_and_the_page_stay_open(keyed_server):
    assert requests.get(keyed_server.url + "/health").status_code == 200
    assert requests.get(keyed_server.url + "/").status_code == 200


def test_the_api_key_never_reaches_the_log(keyed_server):
    post(keyed_server, "/orchestrator/route", {"task": "cpu"}, {"Authorization": "Bearer s3cret-key-for-tests"})
    post(keyed_server, "/orchestrator/route", {"task": "cpu"}, {"Authorization": "Bearer s3cret-wrong"})
    with open(keyed_server.log_path, encoding="utf-8") as handle:
        text = handle.read()
    assert "Routed task" in text and "s3cret" not in text and "s3cret" not in keyed_server.stderr()


def test_without_an_api_key_it_refuses_to_listen_beyond_loopback(state_dir):
    with pytest.raises(RuntimeError, match="without an API key"):
        start_server(state_dir, "--host", "0.0.0.0")


def test_allow_remote_listens_beyond_loopback_and_says_so(state_dir):
    running = start_server(state_dir, "--host", "0.0.0.0", "--allow-remote")
    try:
        assert requests.get(f"http://127.0.0.1:{running.port}/health").status_code == 200
        assert "WARNING: no API key" in running.stderr()
    finally:
        running.stop()


# --- rate limit --------------------------------------------------------------------------------------


def test_requests_over_the_rate_limit_get_429_with_retry_after(state_dir):
    running = start_server(state_dir, ORCHESTRATOR_RATE_LIMIT="5")
    try:
        statuses = [requests.get(running.url + "/orchestrator/agents").status_code for _ in range(7)]
        refused = requests.get(running.url + "/orchestrator/agents")
    finally:
        running.stop()
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
