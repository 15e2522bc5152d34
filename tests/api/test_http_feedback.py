"""POST /orchestrator/feedback through the real server: verdicts kept in the ledger across a restart,
then used by the router; the refusals; the API key; agent selection accuracy on /metrics."""

from __future__ import annotations

import hashlib
import os
import re
import shutil

import pytest
import requests

from tests.fixtures.http_server import start_server
from tests.fixtures.scripts import ROOT, copy_lexicons

MISROUTED = "Are the blue hats overbooked this fortnight?"  # refused today; a contractor crew's question
OWNER = "contractor-agent"
KEY = "feedback-test-key-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(str(tmp_path_factory.mktemp("feedback-state")))
    yield running
    running.stop()


def send(url: str, body, headers: dict | None = None) -> requests.Response:
    return requests.post(url + "/orchestrator/feedback", json=body, headers=headers, timeout=30)


def route(url: str, task: str) -> dict:
    response = requests.post(url + "/orchestrator/route", json={"task": task}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def metric(text: str, name: str) -> float | None:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def test_feedback_is_kept_across_a_restart_then_used_by_the_router(tmp_path):
    state = str(tmp_path)
    first = start_server(state)
    try:
        assert route(first.url, MISROUTED)["status"] == "no_match"
        answer = send(first.url, {"task": MISROUTED, "routed_agent": None, "correct_agent": OWNER})
        assert answer.status_code == 201, answer.text
        assert answer.json()["recorded"] is True and answer.json()["confirmed"] is False
        assert route(first.url, MISROUTED)["status"] == "no_match"  # one verdict teaches nothing
    finally:
        first.stop()

    second = start_server(state)
    try:
        answer = send(second.url, {"task": MISROUTED.lower(), "routed_agent": None, "correct_agent": OWNER})
        assert answer.status_code == 201, answer.text
        assert answer.json()["confirmed"] is True and answer.json()["confirmations"] == 2  # the first one was kept
        result = route(second.url, MISROUTED)
        assert result["status"] in ("routed", "high_confidence") and result["agent"]["agent_id"] == OWNER
        stats = requests.get(second.url + "/orchestrator/stats", timeout=30).json()
        assert stats["routing"]["feedback"] == {"recorded": 2, "corrections": 2, "confirmed_tasks": 1}
        with open(second.log_path, encoding="utf-8") as handle:
            assert f"Feedback recorded | Routed: none | Correct: {OWNER} | Confirmed: True" in handle.read()
    finally:
        second.stop()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"task": MISROUTED, "routed_agent": "no-such-agent", "correct_agent": OWNER}, "routed_agent"),
        ({"task": MISROUTED, "routed_agent": None, "correct_agent": "no-such-agent"}, "correct_agent"),
        ({"task": MISROUTED, "routed_agent": None, "correct_agent": "x" * 101}, "correct_agent"),
        ({"task": MISROUTED, "routed_agent": 7, "correct_agent": OWNER}, "routed_agent"),
        ({"task": "", "routed_agent": None, "correct_agent": OWNER}, "task"),
        ({"task": "  ", "routed_agent": None, "correct_agent": OWNER}, "task"),
        ({"task": "x" * 5001, "routed_agent": None, "correct_agent": OWNER}, "task"),
        ({"routed_agent": None, "correct_agent": OWNER}, "task"),
        ({"task": MISROUTED, "correct_agent": OWNER}, "routed_agent"),
        ({"task": MISROUTED, "routed_agent": None}, "correct_agent"),
    ],
)
def test_bad_feedback_is_422_naming_the_field(server, body, field):
    response = send(server.url, body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "bad_input" and response.json()["field"] == field


def test_a_verdict_over_http_cannot_confirm_itself(server):
    task = "Which crew is on standby at the Midrand depot this weekend?"
    body = {"task": task, "routed_agent": None, "correct_agent": OWNER, "confirm": True, "source": "cli"}
    answer = send(server.url, body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["confirmed"] is False and answer.json()["confirmations"] == 1


def test_feedback_needs_the_api_key_when_one_is_set(tmp_path):
    running = start_server(str(tmp_path), ORCHESTRATOR_API_KEY=KEY)
    body = {"task": MISROUTED, "routed_agent": None, "correct_agent": OWNER}
    bearer = {"Authorization": f"Bearer {KEY}"}
    try:
        refused = send(running.url, body)
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
        assert send(running.url, body, {"Authorization": "Bearer not-the-key"}).status_code == 401
        assert send(running.url, body, bearer).status_code == 201
        stats = requests.get(running.url + "/orchestrator/stats", headers=bearer, timeout=30).json()
    finally:
        running.stop()
    assert stats["routing"]["feedback"]["recorded"] == 1  # only the accepted verdict reached the ledger


def test_feedback_leaves_the_registry_file_and_agent_statuses_as_they_were(tmp_path):
    registry = tmp_path / "agents.yaml"
    shutil.copy(os.path.join(ROOT, "registry", "agents.yaml"), registry)
    copy_lexicons(tmp_path)
    digest = hashlib.sha256(registry.read_bytes()).hexdigest()
    (tmp_path / "state").mkdir()
    running = start_server(str(tmp_path / "state"), ORCHESTRATOR_REGISTRY=str(registry))
    try:
        before = requests.get(running.url + "/orchestrator/agents", timeout=30).json()
        for correct in (OWNER, OWNER, None, None):
            assert send(running.url, {"task": MISROUTED, "routed_agent": "vps-monitor", "correct_agent": correct}).ok
        after = requests.get(running.url + "/orchestrator/agents", timeout=30).json()
    finally:
        running.stop()
    assert hashlib.sha256(registry.read_bytes()).hexdigest() == digest
    assert [(a["id"], a["status"]) for a in after] == [(a["id"], a["status"]) for a in before]


def test_metrics_show_agent_selection_accuracy_from_the_ledger(tmp_path):
    running = start_server(str(tmp_path))
    try:
        assert metric(requests.get(running.url + "/metrics", timeout=30).text, "orchestrator_routed_executions") == 0
        for task in ("Check CPU usage on the server", "How much RAM is free on the VPS?"):
            done = requests.post(running.url + "/orchestrator/smart-execute", json={"task": task}, timeout=60)
            assert done.status_code == 200 and done.json()["agent"] == "vps-monitor"
        body = {"task": "Check CPU usage on the server", "routed_agent": "vps-monitor", "correct_agent": None}
        assert send(running.url, body).status_code == 201  # a verdict refreshes the gauges at once
        text = requests.get(running.url + "/metrics", timeout=30).text
    finally:
        running.stop()
    assert metric(text, "orchestrator_agent_selection_accuracy") == 0.5
    assert metric(text, "orchestrator_routed_executions") == 2
    assert metric(text, "orchestrator_corrected_executions") == 1
    assert 'orchestrator_feedback_total{kind="correction"} 1' in text
