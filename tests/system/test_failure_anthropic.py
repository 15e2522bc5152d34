"""The Messages API failing every way it can, seen through the real server and the real SDK:
each failure is a clear JSON error (upstream_unavailable 502, or timeout 504; exit 3 from the
script), the server stays up, and the next request succeeds as soon as the API is back."""

from __future__ import annotations

import pytest
import requests

from tests.fixtures.fake_anthropic import (
    api_error,
    cut_mid_answer,
    delayed,
    malformed_json,
    overloaded,
    rate_limited,
    reply_text,
)
from tests.fixtures.http_server import start_server

ATTEMPTS = 3  # the SDK's first try plus skills.execution.claude_loop.MAX_RETRIES
AGENT_TIMEOUT_S = 8  # the SDK's import counts against it, and the machine may be busy


@pytest.fixture(scope="module")
def server(tmp_path_factory, _fake_anthropic_server):
    running = start_server(
        str(tmp_path_factory.mktemp("anthropic-failures")),
        ORCHESTRATOR_AGENT_TIMEOUT=str(AGENT_TIMEOUT_S),
        ORCHESTRATOR_WORKERS="1",  # one warm execute_agent worker answers every request here
        **_fake_anthropic_server.env(),
    )
    _fake_anthropic_server.reset()
    _fake_anthropic_server.script([reply_text("warm")])
    assert ask(running).status_code == 200  # the worker imports the SDK now, outside any test's time budget
    yield running
    running.stop()


def ask(server) -> requests.Response:
    return requests.post(
        server.url + "/orchestrator/execute", json={"agent": "vps-monitor", "query": "how long is it up?"}, timeout=60
    )


@pytest.mark.parametrize(
    "failure, status, code, words",
    [
        (rate_limited, 502, "upstream_unavailable", "HTTP 429"),
        (api_error, 502, "upstream_unavailable", "HTTP 500"),
        (overloaded, 502, "upstream_unavailable", "HTTP 529"),
        (malformed_json, 502, "upstream_unavailable", "not valid JSON"),
        (cut_mid_answer, 502, "upstream_unavailable", "Anthropic API"),
        (lambda: delayed(AGENT_TIMEOUT_S + 5, reply_text("too late")), 504, "timeout", "ran out of time"),
    ],
)
def test_a_failing_messages_api_is_a_clear_error_then_recovers_by_itself(
    server, fake_anthropic, failure, status, code, words
):
    fake_anthropic.script([failure() for _ in range(ATTEMPTS)])
    failed = ask(server)
    assert failed.status_code == status, failed.text
    assert failed.json()["code"] == code and words in failed.json()["error"]
    assert fake_anthropic.api_key not in failed.text
    fake_anthropic.reset()
    fake_anthropic.script([reply_text("up for 3 days")])
    recovered = ask(server)
    assert recovered.status_code == 200 and recovered.json()["response"] == "up for 3 days"


def test_the_script_exits_3_for_a_broken_answer(script, fake_anthropic):
    fake_anthropic.script([malformed_json() for _ in range(ATTEMPTS)])
    env = {**fake_anthropic.env(), "ORCHESTRATOR_AGENT_TIMEOUT": "120"}  # a cold process imports the SDK first
    run = script("execute_agent", "--agent", "vps-monitor", "--query", "uptime?", env=env)
    assert run.returncode == 3 and run.json["code"] == "upstream_unavailable"
    assert "Traceback" not in run.stderr
