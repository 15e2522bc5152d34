"""Raw, malformed and hostile HTTP, spoken by hand over sockets: every answer is a JSON refusal
or a real answer, never a 500, never a dead worker, and the connection stays in step.

Hypothesis writes the bodies; the examples are few (each one is a real request to a real
server with real workers) but cover what schemathesis does not send: bytes that are not
UTF-8, lone surrogate escapes, NUL, deep nesting, huge numbers, duplicate keys.
"""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.http_server import start_server
from tests.fixtures.raw_http import RawConnection, request_bytes

POST_ENDPOINTS = [
    "/orchestrator/route",
    "/orchestrator/execute",
    "/orchestrator/smart-execute",
    "/orchestrator/execute-async",
    "/orchestrator/batch",
]
JSON = {"Content-Type": "application/json"}
REFUSALS = {400, 404, 409, 413, 415, 422, 503}  # 404/409/503: an agent or task that cannot run


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(str(tmp_path_factory.mktemp("hostile-state")))
    yield running
    running.stop()


def worker_restarts(server) -> str:
    metrics = requests.get(server.url + "/metrics", timeout=10).text
    return "\n".join(line for line in metrics.splitlines() if line.startswith("orchestrator_worker_restarts_total"))


def post_raw(server, path: str, body: bytes, headers: dict | None = None):
    with RawConnection(server.port) as conn:
        conn.send(request_bytes("POST", path, body, headers={**JSON, **(headers or {})}))
        return conn.read_reply()


# --- the bugs that started this file -----------------------------------------------------


@pytest.mark.parametrize("path", ["/orchestrator/route", "/orchestrator/smart-execute"])
def test_a_lone_surrogate_escape_is_422_naming_the_task_and_no_worker_dies(server, path):
    before = worker_restarts(server)
    reply = post_raw(server, path, b'{"task": "cpu \\ud800 usage"}')
    assert reply.status == 422, reply.body
    assert reply.json["code"] == "bad_input" and reply.json["field"] == "task"
    assert "surrogate" in reply.json["error"]
    assert worker_restarts(server) == before
    assert requests.post(server.url + path, json={"task": "cpu usage"}, timeout=60).status_code == 200


def test_a_surrogate_pair_escape_is_an_ordinary_character(server):
    reply = post_raw(server, "/orchestrator/route", b'{"task": "cpu usage \\ud83d\\ude00"}')
    assert reply.status == 200 and reply.json["task"] == "cpu usage \N{GRINNING FACE}"


def test_http_1_0_keep_alive_is_answered_with_keep_alive_and_the_connection_reused(server):
    with RawConnection(server.port) as conn:
        for _ in range(2):
            conn.send(request_bytes("GET", "/health", headers={"Connection": "Keep-Alive"}, version="HTTP/1.0"))
            reply = conn.read_reply()
            assert reply.status == 200
            assert reply.headers["connection"].lower() == "keep-alive"


def test_http_1_0_without_keep_alive_is_answered_and_closed(server):
    with RawConnection(server.port) as conn:
        conn.send(request_bytes("GET", "/health", version="HTTP/1.0"))
        reply = conn.read_reply()
        assert reply.status == 200 and reply.headers["connection"].lower() == "close"
        assert conn.closed_by_server()


# --- hostile bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, field",
    [
        (b'{"task": "cpu \xff usage"}', 400, "body"),  # not UTF-8
        (b'{"task": ' + b"[" * 5000 + b"}", 400, "body"),  # not JSON, deeply
        (b'{"task": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "body"),  # JSON, nested past recursion
        (b'{"task": "cpu", "context": ' + b'{"a":' * 100 + b"1" + b"}" * 100 + b"}", 422, "context"),
        (b'{"task": "cpu", "context": {"n": 1e999}}', 400, "body"),  # infinity is not JSON's
        (b'{"task": 1' + b"0" * 5000 + b"}", 400, "body"),  # more digits than Python will parse
        (b'{"task": "cpu\\u0000 usage"}', 200, None),  # NUL is a character like any other
        (b'{"task": "cpu\x00 usage"}', 400, "body"),  # but not raw inside a JSON string
    ],
)
def test_hostile_json_is_refused_naming_where_or_answered(server, body, status, field):
    reply = post_raw(server, "/orchestrator/route", body)
    assert reply.status == status, reply.body
    if field:
        assert reply.json["field"] == field


def test_duplicate_keys_take_the_last_value_in_the_server_and_the_script_alike(server):
    reply = post_raw(server, "/orchestrator/route", b'{"task": "a poem please", "task": "cpu usage"}')
    assert reply.status == 200 and reply.json["task"] == "cpu usage"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "", "application/jsonx"]
)
def test_a_body_that_is_not_declared_json_is_415(server, content_type):
    reply = post_raw(server, "/orchestrator/route", b'{"task": "cpu"}', {"Content-Type": content_type})
    assert reply.status == 415 and reply.json["field"] == "Content-Type"


def test_pipelined_requests_are_answered_in_order_on_one_connection(server):
    tasks = ["cpu usage", "active contractors", "disk space"]
    wire = b"".join(
        request_bytes("POST", "/orchestrator/route", json.dumps({"task": t}).encode(), headers=JSON) for t in tasks
    )
    with RawConnection(server.port) as conn:
        conn.send(wire + request_bytes("GET", "/health"))
        answers = [conn.read_reply() for _ in tasks]
        health = conn.read_reply()
    assert [a.json["task"] for a in answers] == tasks
    assert health.status == 200


def test_a_half_closed_connection_still_gets_its_answer(server):
    with RawConnection(server.port) as conn:
        conn.send(request_bytes("POST", "/orchestrator/route", b'{"task": "cpu usage"}', headers=JSON))
        conn.shut_write()
        reply = conn.read_reply()
        assert reply.status == 200 and reply.json["task"] == "cpu usage"
        assert conn.closed_by_server()


def test_a_body_shorter_than_its_content_length_then_half_close_is_dropped_quietly(server):
    with RawConnection(server.port) as conn:
        conn.send(request_bytes("POST", "/orchestrator/route", b'{"task"', headers={**JSON, "Content-Length": "50"}))
        conn.shut_write()
        assert conn.closed_by_server() or conn.read_reply().status == 400
    assert requests.get(server.url + "/health", timeout=10).status_code == 200


# --- fuzzed ------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
)
task_like = st.text(max_size=60) | st.sampled_from(["cpu \ud800 usage", "\udfff", "a\x00b", "\u2028", "cpu usage"])
fields = st.fixed_dictionaries(
    {}, optional={"task": task_like | json_values, "agent": task_like, "query": task_like, "context": json_values}
)
bodies = (
    fields.map(lambda f: json.dumps(f).encode())  # json.dumps escapes lone surrogates as \\udXXX
    | st.lists(task_like, max_size=3).map(lambda t: json.dumps(t).encode())
    | st.binary(max_size=80)
    | json_values.map(lambda v: json.dumps(v).encode())
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(POST_ENDPOINTS), body=bodies)
def test_any_body_gets_an_answer_or_a_json_refusal_and_the_connection_stays_usable(server, path, body):
    with RawConnection(server.port) as conn:
        conn.send(request_bytes("POST", path, body, headers=JSON))
        reply = conn.read_reply()
        assert reply.status in REFUSALS | {200, 202}, (reply.status, reply.body)
        answer = reply.json
        if reply.status >= 400:
            assert isinstance(answer, dict) and answer["code"] and answer["error"]
        conn.send(request_bytes("GET", "/health"))
        assert conn.read_reply().status == 200


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "HEAD", "OPTIONS", "BREW"]),
    path=st.sampled_from(["/orchestrator/agents", "/orchestrator/stats", "/orchestrator/tasks/", "/health", "/x"])
    | st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30).map(
        lambda p: "/orchestrator/agents/" + p
    ),
    query=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30),
)
def test_any_request_line_gets_json_and_never_500(server, method, path, query):
    target = path + ("?" + query if query else "")
    with RawConnection(server.port) as conn:
        conn.send(request_bytes(method, target))
        reply = conn.read_reply(head=method == "HEAD")
    assert reply.status < 500 or reply.status == 503, (reply.status, reply.body)
    if reply.body and reply.headers.get("content-type", "").startswith("application/json"):
        assert isinstance(reply.json, dict | list)


def test_after_the_fuzzing_no_worker_was_replaced(server):
    assert worker_restarts(server) == ""
