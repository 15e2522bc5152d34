"""bin/import_registry: the original orchestrator's registry.json becomes a registry/agents.yaml
that the real validator accepts and the real router routes with; bad input is a JSON error."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from skills.registry.importer import convert, parse_price
from skills.registry.loader import load_registry, validate
from tests.fixtures.scripts import ROOT

ORIGINAL = os.path.join(ROOT, "tests", "data", "original_registry.json")


def original() -> dict:
    with open(ORIGINAL, encoding="utf-8") as handle:
        return json.load(handle)


def read_yaml(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def entries(report: dict, kind: str, field: str) -> dict:
    """agent -> the report entry of `kind` for `field` (one per agent)."""
    return {e["agent"]: e for e in report[kind] if e["field"] == field}


@pytest.fixture
def imported(script, tmp_path):
    output = tmp_path / "registry" / "agents.yaml"
    run = script("import_registry", ORIGINAL, "--output", str(output))
    assert run.returncode == 0, run.stdout + run.stderr
    return run.json, str(output)


def test_the_imported_file_passes_the_real_registry_validator(imported):
    report, output = imported
    agents = validate(read_yaml(output), output)
    assert [a["id"] for a in agents] == [a["id"] for a in original()["agents"]]
    assert report["written"] == output and report["agents"] == 5
    by_id = {a["id"]: a for a in agents}
    assert by_id["vps-monitor"]["category"] == "infrastructure" and by_id["convex-database"]["category"] == "database"
    assert {a["cost_per_query"] for a in agents} == {0.001}
    assert by_id["neon-database"]["model"] == "claude-3-haiku-20240307"


def test_route_task_routes_with_the_imported_registry(imported, script, state_dir):
    _, output = imported
    env = {"ORCHESTRATOR_REGISTRY": output}

    def routed(task: str) -> dict:
        return script("route_task", "--task", task, env=env).json

    assert routed("Check CPU usage on the server")["agent"]["agent_id"] == "vps-monitor"
    assert routed("How many active contractors do we have?")["agent"]["agent_id"] == "contractor-agent"
    # words that exist only as capabilities in the original file route too
    assert routed("run a compliance check")["agent"]["agent_id"] == "contractor-agent"
    assert routed("show me the load average")["agent"]["agent_id"] == "vps-monitor"
    # a capability every data agent shares is not enough to pick one of them
    assert routed("statistics please")["status"] == "no_match"
    assert load_registry(output, state_dir)["agents"][0]["id"] == "vps-monitor"


def test_capabilities_become_triggers_or_weak_triggers_and_the_report_says_which(imported):
    report, output = imported
    agents = {a["id"]: a for a in read_yaml(output)["agents"]}
    vps = agents["vps-monitor"]
    assert vps["triggers"][:10] == original()["agents"][0]["triggers"]  # the original triggers come first, kept
    assert {"load average", "service status", "network"} <= set(vps["triggers"])  # "load_average" as words
    assert "analysis" in vps["weak_triggers"]  # a group name neon-database has too
    shared = set(agents["contractor-agent"]["weak_triggers"])
    assert {"list", "statistics", "analytics"} <= shared and "list" not in agents["contractor-agent"]["triggers"]
    to_triggers = [e for e in report["mapped"] if e["field"] == "capabilities" and e["to"] == "triggers"]
    assert {"agent": "contractor-agent", "value": ["compliance check", "active count"]}.items() <= next(
        e for e in to_triggers if e["agent"] == "contractor-agent"
    ).items()


def test_the_report_names_every_dropped_and_mapped_field_with_a_reason(imported):
    report, _ = imported
    for field in ("path", "avg_response_time"):
        dropped = entries(report, "dropped", field)
        assert set(dropped) == {a["id"] for a in original()["agents"]}, field
        assert all(entry["reason"] for entry in dropped.values())
    assert entries(report, "dropped", "path")["vps-monitor"]["value"] == "agents/vps-monitor"
    top_level = {e["field"]: e for e in report["dropped"] if e["agent"] is None}
    assert set(top_level) == {
        "registry_version",
        "last_updated",
        "total_agents",
        "agent_categories",
        "orchestration_rules",
    }
    assert top_level["orchestration_rules"]["value"]["fallback"] == "ask_user_for_clarification"
    assert entries(report, "mapped", "type")["project-agent"] == {
        "agent": "project-agent",
        "field": "type",
        "to": "category",
        "value": "data_management",
    }
    assert entries(report, "mapped", "cost_per_query")["neon-database"]["now"] == 0.001
    assert report["notes"] == []  # total_agents agrees, every agent has its folder in agents/


def test_route_task_on_the_original_file_says_to_import_it(script):
    run = script("route_task", "--task", "cpu", env={"ORCHESTRATOR_REGISTRY": ORIGINAL})
    assert run.returncode == 2 and run.json["code"] == "registry_invalid"
    assert f"bin/import_registry {ORIGINAL}" in run.json["error"]


def test_missing_type_comes_from_agent_categories_and_odd_values_are_reported():
    document = original()
    document["agents"][4].pop("type")
    document["agents"][4]["status"] = "beta"
    document["agents"][4]["owner"] = "ops team"
    document["agents"][3].pop("name")
    document["total_agents"] = 6
    registry, report = convert(document)
    project, contractor = registry["agents"][4], registry["agents"][3]
    assert project["category"] == "data_management"
    assert entries(report, "mapped", "agent_categories")["project-agent"]["to"] == "category"
    assert project["status"] == "inactive"  # an unknown state never routes until someone says so
    assert entries(report, "mapped", "status")["project-agent"] == {
        "agent": "project-agent",
        "field": "status",
        "value": "beta",
        "now": "inactive",
        "reason": "not one of active, inactive, maintenance",
    }
    assert entries(report, "dropped", "owner")["project-agent"]["value"] == "ops team"
    assert contractor["name"] == "contractor-agent" and "contractor-agent" in entries(report, "defaulted", "name")
    assert report["notes"] == ["total_agents says 6 but the file lists 5 agents"]
    validate(registry, "converted")


@pytest.mark.parametrize(
    "value, dollars", [("$0.001", 0.001), ("0.02", 0.02), (0.5, 0.5), (" $1,250.00 ", 1250.0), ("$0", 0.0)]
)
def test_prices_are_read_as_dollars(value, dollars):
    assert parse_price(value, "cost_per_query") == dollars


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: d["agents"][1].update(cost_per_query="cheap"), "agents[1].cost_per_query"),
        (lambda d: d["agents"][1].update(cost_per_query="-$1"), "agents[1].cost_per_query"),
        (lambda d: d["agents"][2].pop("id"), "agents[2].id"),
        (lambda d: d["agents"][2].update(id="convex database"), "agents[2].id"),
        (lambda d: d["agents"][0].update(triggers="cpu, memory"), "agents[0].triggers"),
        (lambda d: d["agents"][0].update(capabilities="monitoring"), "agents[0].capabilities"),
        (lambda d: d["agents"][3].update(triggers=[], capabilities={}), "agents[3].triggers"),
        (lambda d: d["agents"][4].update(id="vps-monitor"), "agents"),
        (lambda d: d.update(agents=[]), "agents"),
        (lambda d: d.update(agent_categories=["database"]), "agent_categories"),
    ],
)
def test_bad_input_is_a_json_error_naming_the_field_and_writes_nothing(script, tmp_path, change, field):
    document = original()
    change(document)
    source, output = tmp_path / "registry.json", tmp_path / "agents.yaml"
    source.write_text(json.dumps(document))
    run = script("import_registry", str(source), "--output", str(output))
    assert run.returncode == 2, run.stdout
    assert (run.json["code"], run.json["field"]) == ("bad_input", field)
    assert "Traceback" not in run.stdout + run.stderr
    assert not output.exists()


@pytest.mark.parametrize(
    "content, message",
    [("{not json", "is not valid JSON"), ("[1, 2]", "must hold a JSON object"), ('{"agents": {}}', "non-empty")],
)
def test_a_file_that_is_not_a_registry_is_refused_saying_why(script, tmp_path, content, message):
    source = tmp_path / "registry.json"
    source.write_text(content)
    run = script("import_registry", str(source), "--output", str(tmp_path / "out.yaml"))
    assert run.returncode == 2 and message in run.json["error"]


def test_missing_file_bad_arguments_and_an_existing_output_are_json_errors(script, tmp_path):
    missing = script("import_registry", str(tmp_path / "nope.json"), "--output", str(tmp_path / "o.yaml"))
    assert (missing.returncode, missing.json["field"]) == (2, "file") and "cannot read" in missing.json["error"]
    no_file = script("import_registry")
    assert (no_file.returncode, no_file.json["field"]) == (2, "arguments")
    existing = tmp_path / "agents.yaml"
    existing.write_text("# ours\n")
    refused = script("import_registry", ORIGINAL, "--output", str(existing))
    assert (refused.returncode, refused.json["field"]) == (2, "output") and "--force" in refused.json["error"]
    assert existing.read_text() == "# ours\n"
    replaced = script("import_registry", ORIGINAL, "--output", str(existing), "--force")
    assert replaced.returncode == 0 and "vps-monitor" in existing.read_text()


def test_without_output_it_writes_the_registry_the_orchestrator_loads(script, tmp_path):
    target = tmp_path / "loaded.yaml"
    run = script("import_registry", ORIGINAL, env={"ORCHESTRATOR_REGISTRY": str(target)})
    assert run.returncode == 0 and run.json["written"] == str(target)
    routed = script("route_task", "--task", "list tables", env={"ORCHESTRATOR_REGISTRY": str(target)})
    assert routed.json["agent"]["agent_id"] == "neon-database"


def test_agents_without_code_here_are_named_in_the_notes(script, tmp_path):
    document = original()
    document["agents"][0]["id"] = "sharepoint-sync"
    document["agent_categories"]["infrastructure"] = ["sharepoint-sync"]
    source = tmp_path / "registry.json"
    source.write_text(json.dumps(document))
    run = script("import_registry", str(source), "--output", str(tmp_path / "agents.yaml"))
    assert run.returncode == 0
    assert len(run.json["notes"]) == 1 and "no agents/<id>/ folder for sharepoint-sync:" in run.json["notes"][0]
