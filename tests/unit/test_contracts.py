"""Each script's fields are declared once (skills/contracts.py); the CLI, --help, the HTTP checks,
the OpenAPI request schemas and the MCP input schemas are all derived from that declaration."""

import pytest

from skills import contracts, errors
from skills.cli import check_fields, parse_argv, require_text, usage_text
from skills.commands import agent_info, execute_agent, list_agents, route_feedback, route_task, workforce_stats
from skills.contracts import FLAG, TEXT, Contract, Field
from skills.gateway import replies, validation
from skills.mcp.tools import TOOLS, input_schema
from skills.server.openapi import SCHEMAS, build_spec, request_schema


def _with_extra(contract: Contract, extra: Field) -> Contract:
    return Contract(contract.script, contract.summary, (*contract.fields, extra), contract.exits)


@pytest.mark.parametrize(
    "contract",
    [contracts.ROUTE_TASK, contracts.EXECUTE_AGENT, contracts.LIST_AGENTS, contracts.WORKFORCE_STATS],
    ids=lambda contract: contract.script,
)
def test_a_field_added_to_a_declaration_appears_on_the_command_line_in_http_openapi_and_mcp(contract):
    extra = Field("shipping_note", TEXT, "a note for the crew", required=True, max_len=12)
    grown = _with_extra(contract, extra)
    request = grown.request("Grown")

    fields, _ = parse_argv(["--shipping-note", "dig"], grown.fields)
    assert check_fields(fields, grown.fields) == {"shipping_note": "dig"}
    assert "--shipping-note TEXT" in usage_text(grown) and "a note for the crew (required)" in usage_text(grown)
    with pytest.raises(errors.BadInput) as too_long:
        validation.check({name: "x" for name in request.required} | {"shipping_note": "x" * 13}, request)
    assert too_long.value.field == "shipping_note" and "the limit is 12" in too_long.value.message
    described = request_schema(request)
    assert "shipping_note" in described["required"]
    assert described["properties"]["shipping_note"]["maxLength"] == 12
    assert described["properties"]["shipping_note"]["description"] == "a note for the crew"
    tool = input_schema(request)
    assert tool["properties"]["shipping_note"] == {
        "type": "string",
        "description": "a note for the crew",
        "minLength": 1,
        "maxLength": 12,
    }
    assert "shipping_note" in tool["required"]
    # without the extra field, none of the four knows it
    with pytest.raises(errors.BadInput):
        parse_argv(["--shipping-note", "dig"], contract.fields)
    assert "shipping_note" not in input_schema(contract.request("Plain"))["properties"]


def test_a_limit_changed_in_the_declaration_changes_the_script_http_openapi_and_mcp(monkeypatch):
    task = contracts.ROUTE_TASK.field("task")
    monkeypatch.setattr(task, "max_len", 10)
    with pytest.raises(errors.BadInput, match="the limit is 10"):
        require_text({"task": "check the cpu now"}, task)
    with pytest.raises(errors.BadInput, match="the limit is 10"):
        validation.check({"task": "check the cpu now"}, contracts.ROUTE)
    assert request_schema(contracts.ROUTE)["properties"]["task"]["maxLength"] == 10
    assert TOOLS["route_task"].input_schema()["properties"]["task"]["maxLength"] == 10


def test_the_commands_http_openapi_and_mcp_read_the_same_declarations():
    for command, contract in [
        (route_task, contracts.ROUTE_TASK),
        (execute_agent, contracts.EXECUTE_AGENT),
        (list_agents, contracts.LIST_AGENTS),
        (agent_info, contracts.AGENT_INFO),
        (workforce_stats, contracts.WORKFORCE_STATS),
        (route_feedback, contracts.ROUTE_FEEDBACK),
    ]:
        assert command.OPTIONS is contract.fields
    assert SCHEMAS["RouteRequest"] == request_schema(contracts.ROUTE)
    assert SCHEMAS["ExecuteRequest"] == request_schema(contracts.EXECUTE)
    assert SCHEMAS["SmartExecuteRequest"] == request_schema(contracts.SMART_EXECUTE)
    assert TOOLS["route_task"].request is contracts.ROUTE
    assert TOOLS["smart_execute"].request.fields[0] is contracts.SMART_EXECUTE.fields[0]
    # an MCP tool's fields are the script's own declarations, not copies
    for spec in TOOLS.values():
        for field in spec.request.fields:
            script = {
                "route_task": contracts.ROUTE_TASK,
                "execute_agent": contracts.EXECUTE_AGENT,
                "smart_execute": contracts.EXECUTE_AGENT,
                "list_agents": contracts.LIST_AGENTS,
                "agent_info": contracts.AGENT_INFO,
                "workforce_stats": contracts.WORKFORCE_STATS,
            }[spec.name]
            assert script.field(field.name) is field


def test_the_openapi_parameters_and_the_version_come_from_the_declarations():
    spec = build_spec()
    stats = spec["paths"]["/orchestrator/stats"]["get"]["parameters"][0]
    assert stats["schema"]["pattern"] == contracts.SINCE_PATTERN
    assert stats["description"] == contracts.WORKFORCE_STATS.field("since").help
    assert spec["info"]["version"] == contracts.VERSION
    assert SCHEMAS["BatchTasks"]["maxItems"] == contracts.MAX_BATCH


def test_every_error_code_has_one_exit_status_and_one_http_status():
    classes = list(errors.error_classes())
    by_code: dict[str, set[tuple[int, int]]] = {}
    for cls in classes:
        by_code.setdefault(cls.code, set()).add((cls.exit_status, cls.http_status))
    assert all(len(statuses) == 1 for statuses in by_code.values()), by_code
    for code in ("script_failed", "overloaded", "interrupted", "ambiguous_task", "unauthorized", "no_match"):
        assert code in replies.CODE_STATUS
    assert replies.status_for({"error": "x", "code": "ambiguous_task"}) == 409
    assert replies.status_for({"error": "x", "code": "script_failed"}) == 502
    assert replies.status_for({"error": "x", "code": "no_match"}) == 404


def test_a_json_only_field_is_no_flag_but_is_checked_like_any_field():
    llm_fallback = contracts.EXECUTE_AGENT.field("llm_fallback")
    assert llm_fallback.flag is None and llm_fallback.kind == FLAG
    with pytest.raises(errors.BadInput, match="unknown argument"):
        parse_argv(["--llm-fallback"], contracts.EXECUTE_AGENT.fields)
    with pytest.raises(errors.BadInput, match="must be true or false"):
        check_fields({"llm_fallback": "yes"}, contracts.EXECUTE_AGENT.fields)


def test_a_request_refuses_to_require_a_field_it_does_not_send():
    with pytest.raises(ValueError, match="does not send"):
        contracts.EXECUTE_AGENT.request("Broken", ("task",), required=("agent",))
