"""The execution history on both backends: filters, order, limit, the whole record, redaction."""

from __future__ import annotations

import json

import pytest

from skills.config import Settings
from skills.errors import BadInput
from skills.gateway.validation import check_history_query
from skills.ledger import records as ledger
from skills.ledger.history import get_execution, list_executions
from skills.store import close_stores

SECRET = "sk-ant-api03-" + "y" * 40


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    return Settings({"ORCHESTRATOR_STATE_DIR": str(tmp_path / "state")})


@pytest.fixture
def postgres_settings(state_db_url, tmp_path) -> Settings:
    return Settings({"ORCHESTRATOR_DATABASE_URL": state_db_url, "ORCHESTRATOR_STATE_DIR": str(tmp_path / "pg")})


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request) -> Settings:
    chosen = request.getfixturevalue(f"{request.param}_settings")
    yield chosen
    close_stores()


def book(settings) -> list[int]:
    cpu = {"name": "cpu_usage", "arguments": {}, "duration_ms": 3.2, "ok": True}
    rows = [
        ledger.ExecutionRecord(
            "vps-monitor",
            "cpu usage",
            "direct",
            True,
            12.5,
            started_at=1000.0,
            tool_calls=[cpu],
            answer="CPU is 12% busy.",
            data={"busy_percent": 12.0},
        ),
        ledger.ExecutionRecord(
            "neon-database",
            f"count contractors, key {SECRET}",
            "claude",
            False,
            250.0,
            started_at=2000.0,
            error_code="timeout",
            error="took too long",
            input_tokens=120,
            output_tokens=30,
            cost_usd=0.0004,
        ),
        ledger.ExecutionRecord(
            "vps-monitor",
            "memory",
            "claude",
            True,
            40.0,
            started_at=3000.0,
            route_status="high_confidence",
            route_score=0.9,
            model="claude-haiku-4-5",
            answer=f"Memory is fine. {SECRET}",
            data=[{"row": 1}, {"row": 2}],
            tool_calls=[cpu, {**cpu, "name": "memory_usage"}],
        ),
    ]
    return [ledger.record(settings, row) for row in rows]


def test_the_list_is_newest_first_with_tool_names_and_no_answers(settings):
    ids = book(settings)
    listed = list_executions(settings)
    assert [item["id"] for item in listed["executions"]] == ids[::-1]
    assert listed["count"] == 3 and listed["limit"] == 50
    newest = listed["executions"][0]
    assert newest == {
        "id": ids[2],
        "task": "memory",
        "agent": "vps-monitor",
        "mode": "claude",
        "success": True,
        "duration_ms": 40.0,
        "cost_usd": 0.0,
        "tools": ["cpu_usage", "memory_usage"],
        "created_at": "1970-01-01T00:50:00.000+00:00",
        "route_status": "high_confidence",
        "error_code": None,
    }
    assert "answer" not in newest and "data" not in newest


def test_filters_by_agent_success_since_and_limit(settings):
    ids = book(settings)
    assert [i["id"] for i in list_executions(settings, agent="vps-monitor")["executions"]] == [ids[2], ids[0]]
    assert [i["id"] for i in list_executions(settings, success=False)["executions"]] == [ids[1]]
    assert [i["id"] for i in list_executions(settings, since=1500.0)["executions"]] == [ids[2], ids[1]]
    assert [
        i["id"] for i in list_executions(settings, agent="vps-monitor", success=True, since=2500.0)["executions"]
    ] == [ids[2]]
    assert [i["id"] for i in list_executions(settings, limit=1)["executions"]] == [ids[2]]
    assert list_executions(settings, agent="no-such-agent")["executions"] == []


def test_one_record_has_the_answer_data_and_calls_with_secrets_masked(settings):
    ids = book(settings)
    first, failed, last = (get_execution(settings, i) for i in ids)
    assert first["answer"] == "CPU is 12% busy." and first["data"] == {"busy_percent": 12.0}
    assert first["tool_calls"] == [{"name": "cpu_usage", "arguments": {}, "duration_ms": 3.2, "ok": True}]
    assert failed["answer"] is None and failed["data"] is None and failed["error"] == "took too long"
    assert failed["usage"] == {"input_tokens": 120, "output_tokens": 30} and failed["cost_usd"] == 0.0004
    assert (
        last["data"] == [{"row": 1}, {"row": 2}] and last["model"] == "claude-haiku-4-5" and last["route_score"] == 0.9
    )
    assert SECRET not in json.dumps([first, failed, last]) and last["answer"].startswith("Memory is fine.")
    assert get_execution(settings, 10**9) is None


def test_data_too_large_to_keep_is_null_but_the_answer_stays(settings):
    big = [{"text": "x" * 1000}] * (ledger.MAX_DATA_CHARS // 1000 + 1)
    row = ledger.ExecutionRecord("vps-monitor", "all", "direct", True, 1.0, answer="many rows", data=big)
    record = get_execution(settings, ledger.record(settings, row))
    assert record["answer"] == "many rows" and record["data"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": ["0"]}, "limit"),
        ({"limit": ["1001"]}, "limit"),
        ({"limit": ["ten"]}, "limit"),
        ({"limit": ["5", "6"]}, "limit"),
        ({"success": ["yes"]}, "success"),
        ({"since": ["yesterday"]}, "since"),
        ({"agent": ["a" * 101]}, "agent"),
    ],
)
def test_bad_history_parameters_name_their_field(query, field):
    with pytest.raises(BadInput) as refused:
        check_history_query(query)
    assert refused.value.field == field


def test_history_parameters_default_and_parse():
    assert check_history_query({}) == {"agent": None, "since": None, "success": None, "limit": 50}
    parsed = check_history_query(
        {"agent": ["vps-monitor"], "success": ["false"], "limit": ["1000"], "since": ["2026-11-01"]}
    )
    assert parsed["agent"] == "vps-monitor" and parsed["success"] is False and parsed["limit"] == 1000
    assert parsed["since"] == 1793491200.0
