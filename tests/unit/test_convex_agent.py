"""The Convex Task Agent's tools and skills/backends/convex.py, against the local fake Convex deployment."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time

import pytest
import yaml

from skills.backends import convex
from skills.config import Settings
from skills.errors import AgentNotConfigured, BadInput, ExecutionTimeout, UpstreamInvalid, UpstreamUnavailable
from skills.execution.claude_loop import data_of, run_tool_loop
from skills.execution.tools import ToolContext, load_agent_prompt, load_agent_tools
from tests.fixtures.fake_anthropic import reply_text, reply_tool_use
from tests.fixtures.silent import client_hung_up, silent_listener

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGENTS = os.path.join(ROOT, "agents")
AGENT = "convex-database"


@pytest.fixture(scope="module")
def tools():
    return load_agent_tools(AGENTS, AGENT)


@pytest.fixture
def ctx(fake_convex) -> ToolContext:
    return ToolContext(settings=Settings(fake_convex.env()), agent_id=AGENT)


def call(tools, ctx, name, **arguments):
    return tools[name].call(ctx, arguments)


def test_agent_provides_exactly_the_tools_the_registry_names(tools):
    with open(os.path.join(ROOT, "registry", "agents.yaml"), encoding="utf-8") as handle:
        registry = yaml.safe_load(handle)
    [agent] = [a for a in registry["agents"] if a["id"] == AGENT]
    assert set(tools) == {t["name"] for t in agent["tools"]}
    assert all(tool.parse is not None for tool in tools.values())


def test_requests_follow_convex_http_api_with_the_deploy_key(tools, ctx, fake_convex):
    call(tools, ctx, "list_tasks", due="overdue")

    [request] = fake_convex.requests
    assert request["path"] == "/api/query"
    assert request["body"] == {"path": "tasks:list", "args": {"status": "open", "due": "overdue"}, "format": "json"}
    assert request["headers"]["authorization"] == f"Convex {fake_convex.deploy_key}"
    assert request["headers"]["content-type"] == "application/json"


def test_list_tasks_shows_open_tasks_soonest_due_first(tools, ctx):
    result = call(tools, ctx, "list_tasks")

    numbers = [t["number"] for t in result.data["tasks"]]
    assert numbers == [12, 15, 14, 13, 17, 18]  # due -3, -1, 0, +2, +4, none; #16 is done
    assert result.data["total"] == 6
    assert result.summary.startswith("6 open tasks: #12 Audit the Soweto splice records (Thabo, due ")
    assert result.summary.endswith("… and 1 more.")


def test_list_overdue_tasks(tools, ctx):
    result = call(tools, ctx, "list_tasks", due="overdue")

    assert [t["number"] for t in result.data["tasks"]] == [12, 15]
    assert result.summary.startswith("2 overdue open tasks: #12")
    assert "#15 Follow up with the municipality on the road reserve (unassigned" in result.summary


def test_list_by_assignee_and_status(tools, ctx):
    result = call(tools, ctx, "list_tasks", status="all", assignee="naledi")

    assert [t["number"] for t in result.data["tasks"]] == [16, 13]
    assert result.summary.startswith("2 tasks for naledi:")


def test_list_with_no_matches_says_so(tools, ctx):
    result = call(tools, ctx, "list_tasks", assignee="Nobody")

    assert result.summary == "No open tasks for Nobody."
    assert result.data == {"tasks": [], "total": 0}


def test_add_task_creates_the_next_number_with_a_normalised_due_date(tools, ctx, fake_convex):
    result = call(
        tools, ctx, "add_task", title="Inspect the splice closures in Midrand", assignee="Naledi", due="tomorrow"
    )

    created = fake_convex.task(19)
    assert created["title"] == "Inspect the splice closures in Midrand"
    assert (created["assignee"], created["status"]) == ("Naledi", "todo")
    assert created["due"] == (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert result.summary.startswith("Added task #19 Inspect the splice closures in Midrand (Naledi, due ")
    assert fake_convex.requests[0]["path"] == "/api/mutation"


def test_add_task_rejects_an_unreadable_due_date_before_calling_convex(tools, ctx, fake_convex):
    with pytest.raises(BadInput) as caught:
        call(tools, ctx, "add_task", title="Something", due="sometime soon")

    assert caught.value.field == "due"
    assert fake_convex.requests == []


def test_update_task_reassigns_a_task_named_by_its_words(tools, ctx, fake_convex):
    result = call(tools, ctx, "update_task", task_id="audit", assignee="Naledi")

    assert fake_convex.task(12)["assignee"] == "Naledi"
    assert result.summary.startswith("Updated task #12 (assignee Naledi): #12 Audit the Soweto splice records")
    lookup, change = fake_convex.requests
    assert lookup["body"]["args"] == {"status": "all", "search": "audit"}
    assert change["body"] == {"path": "tasks:update", "args": {"task": "12", "assignee": "Naledi"}, "format": "json"}


def test_update_with_an_ambiguous_reference_lists_the_candidates(tools, ctx, fake_convex):
    with pytest.raises(BadInput) as caught:
        call(tools, ctx, "update_task", task_id="Midrand", status="in_progress")

    assert caught.value.field == "task_id"
    assert "2 tasks match 'Midrand'" in caught.value.message
    assert "#13" in caught.value.message and "#17" in caught.value.message
    assert fake_convex.task(17)["status"] == "todo"


def test_update_needs_something_to_change(tools, ctx):
    with pytest.raises(BadInput, match="nothing to change"):
        call(tools, ctx, "update_task", task_id="17")


def test_update_moves_status_and_due_date(tools, ctx, fake_convex):
    call(tools, ctx, "update_task", task_id="#14", status="in_progress", due="2031-02-03")

    assert fake_convex.task(14)["status"] == "in_progress"
    assert fake_convex.task(14)["due"] == "2031-02-03"


def test_complete_task_marks_it_done_once(tools, ctx, fake_convex):
    first = call(tools, ctx, "complete_task", task_id="17")
    second = call(tools, ctx, "complete_task", task_id="task 17")

    assert fake_convex.task(17)["status"] == "done" and fake_convex.task(17)["completedAt"]
    assert first.summary == "Marked task #17 as done: Replace the damaged pole on Main Road, Midrand."
    assert second.summary.startswith("Task #17 was already done")


def test_unknown_task_number_is_bad_input_from_convex(tools, ctx):
    with pytest.raises(BadInput) as caught:
        call(tools, ctx, "complete_task", task_id="99")

    assert caught.value.message == "no task 99"
    assert caught.value.field == "task_id"


def test_task_stats_counts_by_status_and_person(tools, ctx):
    result = call(tools, ctx, "task_stats")

    assert result.summary == (
        "7 tasks: 5 to do, 1 in progress, 1 done; 2 overdue, 1 due today. "
        "Open per person: Sipho 2, Thabo 2, Naledi 1, unassigned 1."
    )
    assert result.data["byStatus"] == {"todo": 5, "in_progress": 1, "done": 1}


def test_sync_status_reports_the_last_run(tools, ctx, fake_convex):
    ok = call(tools, ctx, "sync_status")
    fake_convex.sync.update(status="failed", error="Neon connection refused", recordsSynced=0)
    failed = call(tools, ctx, "sync_status")

    assert ok.summary.startswith("The last sync from neon succeeded (")
    assert "11 min ago" in ok.summary and ok.summary.endswith("148 records.")
    assert failed.summary.startswith("The last sync from neon failed (")
    assert failed.summary.endswith("Neon connection refused.")


def test_missing_convex_url_means_not_configured(tools):
    bare = ToolContext(settings=Settings({}), agent_id=AGENT)

    with pytest.raises(AgentNotConfigured) as caught:
        call(tools, bare, "task_stats")

    assert caught.value.message.startswith("CONVEX_URL is not set:")
    assert caught.value.field == "CONVEX_URL"


def test_rejected_deploy_key_is_clear_and_never_shown(tools, fake_convex):
    secret = "prod:fibreflow-fake|wrong-secret-value"
    bad = ToolContext(settings=Settings({"CONVEX_URL": fake_convex.url, "CONVEX_DEPLOY_KEY": secret}))

    with pytest.raises(AgentNotConfigured) as caught:
        call(tools, bad, "task_stats")

    assert "Convex rejected CONVEX_DEPLOY_KEY (HTTP 401 BadDeployKey" in caught.value.message
    assert secret not in json.dumps(caught.value.to_json())


def test_a_failing_convex_function_is_upstream_unavailable_with_its_message(tools, ctx, fake_convex):
    fake_convex.fail_next("tasks:stats", "database is read-only")

    with pytest.raises(UpstreamUnavailable) as caught:
        call(tools, ctx, "task_stats")

    assert caught.value.message == "Convex function tasks:stats failed: database is read-only"


def test_a_function_missing_from_the_deployment_points_to_the_readme(fake_convex):
    with pytest.raises(AgentNotConfigured, match="README"):
        convex.query(Settings(fake_convex.env()), "tasks:archive")


def test_an_http_error_without_convex_shape_is_upstream_unavailable(ctx, fake_convex):
    fake_convex.http_error_next(503, {"code": "ServiceUnavailable", "message": "deployment is paused"})

    with pytest.raises(UpstreamUnavailable, match="HTTP 503 ServiceUnavailable: deployment is paused"):
        convex.query(ctx.settings, "tasks:stats")


def test_unreachable_convex_is_upstream_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(UpstreamUnavailable, match="could not reach Convex"):
        convex.query(Settings({"CONVEX_URL": f"http://127.0.0.1:{port}"}), "tasks:stats")


def test_silent_convex_times_out_at_the_deadline():
    with silent_listener() as listener:  # accepts connections but never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"

        with pytest.raises(ExecutionTimeout, match="did not answer within"):
            convex.query(Settings({"CONVEX_URL": url}), "tasks:stats", deadline=time.monotonic() + 0.3)

        assert client_hung_up(listener)  # the request was abandoned, not left waiting


def test_expired_deadline_stops_before_calling(fake_convex):
    with pytest.raises(ExecutionTimeout):
        convex.query(Settings(fake_convex.env()), "tasks:stats", deadline=time.monotonic() - 1)
    assert fake_convex.requests == []


# --- outbound calls: the deploy key goes to CONVEX_URL and nowhere else -------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_is_refused_and_the_key_never_goes_there(
    tools, ctx, fake_convex, redirect_target, status
):
    target = redirect_target.url.removeprefix("http://")
    fake_convex.answer_next(status, {}, headers={"Location": redirect_target.url + "/api/query"})

    with pytest.raises(UpstreamInvalid) as caught:
        call(tools, ctx, "task_stats")

    assert redirect_target.seen == []  # not followed at all, so no Authorization header went there
    assert f"HTTP {status}, a redirect to {target}" in caught.value.message
    assert "not followed" in caught.value.message and caught.value.field == "CONVEX_URL"
    assert fake_convex.deploy_key not in json.dumps(caught.value.to_json())
    assert (caught.value.code, caught.value.exit_status, caught.value.http_status) == ("upstream_invalid", 3, 502)


def test_a_relative_redirect_on_the_same_deployment_is_not_followed_either(ctx, fake_convex):
    fake_convex.answer_next(307, {}, headers={"Location": "/api/query?again=1"})

    with pytest.raises(UpstreamInvalid, match="a redirect to 127.0.0.1:"):
        convex.query(ctx.settings, "tasks:stats")
    assert len(fake_convex.requests) == 1


def test_a_redirect_is_a_clear_json_error_from_the_script(fake_convex, redirect_target, script):
    fake_convex.answer_next(302, {}, headers={"Location": redirect_target.url + "/steal"})

    run = script("execute_agent", "--agent", AGENT, "--query", "task statistics", env=fake_convex.env(), timeout=120)

    assert run.returncode == 3, run.stdout
    assert run.json["code"] == "upstream_invalid"
    assert redirect_target.url.removeprefix("http://") in run.json["error"]
    assert redirect_target.seen == []
    assert fake_convex.deploy_key not in run.stdout + run.stderr


@pytest.mark.parametrize(
    "url",
    [
        "http://happy-otter-123.convex.cloud",
        "http://10.0.0.5:3210",
        "http://localhost.evil.example:3210",
        "http://127.0.0.1.nip.io:3210",
        "ftp://127.0.0.1:21",
        "happy-otter-123.convex.cloud",
    ],
)
def test_plain_http_is_refused_unless_the_host_is_loopback(url):
    with pytest.raises(AgentNotConfigured) as caught:  # refused before any connection or name look-up
        convex.query(Settings({"CONVEX_URL": url, "CONVEX_DEPLOY_KEY": "prod:x|secret"}), "tasks:stats")

    assert caught.value.message.startswith("CONVEX_URL must start with https://")
    assert caught.value.field == "CONVEX_URL"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_plain_http_to_a_loopback_host_is_allowed(fake_convex, host):
    port = fake_convex.url.rsplit(":", 1)[1]
    settings = Settings({**fake_convex.env(), "CONVEX_URL": f"http://{host}:{port}"})

    assert convex.query(settings, "tasks:stats")["total"] == 7


ODD_REPLIES = {
    "an html page": (200, b"<html><body>Welcome to nginx!</body></html>"),
    "an empty body": (200, b""),
    "json without the envelope": (200, {"total": 7}),
    "a list": (200, [1, 2, 3]),
    "success without a value": (200, {"status": "success"}),
    "stats of another shape": (200, {"status": "success", "value": [7, 5, 1]}),
    "a count as text": (200, {"status": "success", "value": {"total": "7", "byStatus": {}, "byAssignee": {}}}),
    "a missing field": (200, {"status": "success", "value": {"total": 7, "byStatus": {}, "byAssignee": {}}}),
    "a person's count as text": (
        200,
        {
            "status": "success",
            "value": {"total": 7, "byStatus": {}, "byAssignee": {"Thabo": "two"}, "overdue": 0, "dueToday": 0},
        },
    ),
    "a count as true": (
        200,
        {
            "status": "success",
            "value": {"total": True, "byStatus": {}, "byAssignee": {}, "overdue": 0, "dueToday": 0},
        },
    ),
    "an error message that is no text": (560, {"status": "error", "errorMessage": 42, "errorData": {"code": 7}}),
}


@pytest.mark.parametrize("reply", ODD_REPLIES.values(), ids=ODD_REPLIES.keys())
def test_a_reply_of_an_unexpected_shape_is_upstream_invalid(tools, ctx, fake_convex, reply):
    status, body = reply
    fake_convex.answer_next(status, body)

    with pytest.raises((UpstreamInvalid, UpstreamUnavailable)) as caught:
        call(tools, ctx, "task_stats")

    if status == 200:
        assert caught.value.code == "upstream_invalid", caught.value.message
        assert "tasks:stats" in caught.value.message
    else:  # a function error, however odd its fields, is still the function failing
        assert caught.value.code == "upstream_unavailable"


@pytest.mark.parametrize(
    "tool_name, arguments, value, where",
    [
        ("list_tasks", {}, {"tasks": "none", "total": 0}, "the value.tasks as str, not a list"),
        (
            "list_tasks",
            {},
            {"tasks": [{"number": 12, "title": "x", "status": "todo"}], "total": 1},
            "tasks[0].assignee",
        ),
        ("add_task", {"title": "Order cable"}, {"ok": True}, "without the value.number"),
        ("complete_task", {"task_id": "17"}, {"task": None}, "the value.task as null, not an object"),
        ("sync_status", {}, "ok", "the value as str, not an object"),
    ],
)
def test_each_tool_checks_the_shape_it_reads(tools, ctx, fake_convex, tool_name, arguments, value, where):
    fake_convex.answer_next(200, {"status": "success", "value": value})

    with pytest.raises(UpstreamInvalid) as caught:
        call(tools, ctx, tool_name, **arguments)

    assert where in caught.value.message
    assert "agents/convex-database/convex" in caught.value.message


def test_an_odd_reply_is_exit_3_upstream_invalid_from_the_script(fake_convex, script):
    fake_convex.answer_next(200, b"<html>captive portal</html>")

    run = script("execute_agent", "--agent", AGENT, "--query", "task statistics", env=fake_convex.env(), timeout=120)

    assert run.returncode == 3, run.stdout
    assert run.json["code"] == "upstream_invalid"
    assert "captive portal" in run.json["error"]


@pytest.mark.parametrize(
    "tool_name, query, expected",
    [
        ("complete_task", "mark task 17 as complete", {"task_id": "17"}),
        ("complete_task", "Mark the permit task as done", {"task_id": "permit"}),
        ("complete_task", "tick off #12", {"task_id": "12"}),
        (
            "add_task",
            "add a task to inspect the splice closures in Midrand",
            {"title": "inspect the splice closures in Midrand"},
        ),
        ("add_task", "Add a to-do to follow up with the municipality", {"title": "follow up with the municipality"}),
        (
            "add_task",
            "add a task for Naledi to check the OTDR traces due 2030-05-01",
            {"assignee": "Naledi", "title": "check the OTDR traces", "due": "2030-05-01"},
        ),
        ("add_task", "remind me to call the supplier tomorrow", {"title": "call the supplier", "due": "tomorrow"}),
        ("update_task", "reassign the audit task to Naledi", {"task_id": "audit", "assignee": "Naledi"}),
        ("update_task", "reassign task 12 to Naledi", {"task_id": "12", "assignee": "Naledi"}),
        ("update_task", "mark task 13 as in progress", {"task_id": "13", "status": "in_progress"}),
        ("update_task", "change the due date of task 14 to 2031-08-01", {"task_id": "14", "due": "2031-08-01"}),
        ("list_tasks", "list overdue to-do items", {"due": "overdue"}),
        ("list_tasks", "show my tasks for today", {"due": "today"}),
        ("list_tasks", "What tasks are assigned to Naledi?", {"assignee": "Naledi"}),
        ("list_tasks", "show all tasks", {"status": "all"}),
        ("task_stats", "how many open to-dos does the team have", {}),
        ("sync_status", "did the convex sync succeed", {}),
    ],
)
def test_offline_parse_pulls_arguments_from_the_sentence(tools, tool_name, query, expected):
    assert tools[tool_name].parse(query) == expected


def test_parsed_arguments_run_against_convex(tools, ctx, fake_convex):
    """The offline path end to end: sentence -> parse -> tool -> Convex."""
    arguments = tools["update_task"].parse("reassign the audit task to Naledi")
    result = tools["update_task"].call(ctx, arguments)

    assert fake_convex.task(12)["assignee"] == "Naledi"
    assert "#12" in result.summary


def test_claude_completes_a_task_through_the_tool_loop(tools, fake_convex, fake_anthropic):
    fake_anthropic.script(
        [
            reply_tool_use("complete_task", {"task_id": "17"}),
            reply_text("Done: task #17 (replace the damaged pole) is marked complete."),
        ]
    )
    settings = Settings({**fake_convex.env(), **fake_anthropic.env()})

    outcome = run_tool_loop(
        settings=settings,
        model="claude-haiku-4-5",
        system_prompt=load_agent_prompt(AGENTS, AGENT),
        tools=tools,
        query="Mark task 17 as complete",
        context=None,
        ctx=ToolContext(settings=settings, agent_id=AGENT),
    )

    assert fake_convex.task(17)["status"] == "done"
    assert outcome.text.startswith("Done: task #17")
    [result] = fake_anthropic.bodies[1]["messages"][2]["content"]
    assert (
        json.loads(data_of(result["content"]))["summary"]
        == "Marked task #17 as done: Replace the damaged pole on Main Road, Midrand."
    )
    assert {t["name"] for t in fake_anthropic.bodies[0]["tools"]} == set(tools)
    assert "Convex Task Agent" in fake_anthropic.bodies[0]["system"]
