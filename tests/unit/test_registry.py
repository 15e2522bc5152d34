"""Registry validation errors name the agent and field; the cache follows the file."""

import os
import subprocess
import sys

import pytest
import yaml

from skills.errors import RegistryInvalid
from skills.registry.loader import load_registry
from tests.fixtures.scripts import BIN, ROOT

GOOD = {
    "id": "a",
    "name": "A",
    "category": "c",
    "description": "d",
    "status": "active",
    "model": "m",
    "cost_per_query": 0.001,
    "triggers": ["server"],
}


def write(tmp_path, document) -> str:
    path = tmp_path / "agents.yaml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return str(path)


@pytest.mark.parametrize(
    "agent, field, words",
    [
        ({**GOOD, "colour": "red"}, "colour", "unknown field"),
        ({k: v for k, v in GOOD.items() if k != "model"}, "model", "missing field"),
        ({**GOOD, "triggers": "server"}, "triggers", "must be a list"),
        ({**GOOD, "triggers": []}, "triggers", "must not be empty"),
        ({**GOOD, "triggers": ["ok", ""]}, "triggers", "non-empty strings"),
        ({**GOOD, "cost_per_query": "cheap"}, "cost_per_query", "must be a number"),
        ({**GOOD, "status": "sleeping"}, "status", "must be one of"),
        ({**GOOD, "requires": ["redis"]}, "requires", "may contain"),
        ({**GOOD, "tools": [{"name": "t", "when": []}]}, "tools[0].when", "unknown field"),
    ],
)
def test_invalid_agent_names_agent_and_field(tmp_path, agent, field, words):
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(write(tmp_path, {"agents": [agent]}))
    assert caught.value.field == field
    assert words in caught.value.message
    assert "'a'" in caught.value.message or "agents[0]" in caught.value.message


def test_duplicate_ids_are_refused(tmp_path):
    with pytest.raises(RegistryInvalid, match="duplicate id"):
        load_registry(write(tmp_path, {"agents": [GOOD, GOOD]}))


def test_yaml_syntax_error_gives_line(tmp_path):
    with pytest.raises(RegistryInvalid, match="line 2"):
        load_registry(write(tmp_path, "agents:\n  - id: a: b\n"))


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(RegistryInvalid, match="ORCHESTRATOR_REGISTRY"):
        load_registry(str(tmp_path / "nope.yaml"))


def test_script_reports_invalid_registry_as_json_exit_2(tmp_path, script):
    path = write(tmp_path, {"agents": [{**GOOD, "triggers": []}]})
    run = script("route_task", "--task", "server", env={"ORCHESTRATOR_REGISTRY": path})
    assert run.returncode == 2
    assert run.json["code"] == "registry_invalid"
    assert run.json["field"] == "triggers"
    assert "Traceback" not in run.stdout + run.stderr


def test_changed_registry_is_picked_up_at_once(tmp_path):
    state = str(tmp_path / "state")
    path = write(tmp_path, {"agents": [GOOD]})
    assert load_registry(path, state)["agents"][0]["triggers"] == ["server"]
    write(tmp_path, {"agents": [{**GOOD, "triggers": ["database", "sql"]}]})
    assert load_registry(path, state)["agents"][0]["triggers"] == ["database", "sql"]


def test_cached_route_does_not_import_yaml(tmp_path):
    """The second route of an unchanged registry reads the index file, not the YAML."""
    env = {**os.environ, "ORCHESTRATOR_STATE_DIR": str(tmp_path), "ORCHESTRATOR_ENV_FILE": str(tmp_path / "none")}
    code = (
        f"import sys; sys.path.insert(0, {ROOT!r}); sys.argv=['route_task','--task','check cpu'];"
        "from skills.commands.route_task import main; main(); print('yaml' in sys.modules)"
    )
    first = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    second = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    assert first.stdout.strip().endswith("False")  # the YAML is parsed in a forked build child
    assert any(name.endswith(".index") for name in os.listdir(tmp_path / "cache"))  # the first wrote the index
    assert second.stdout.strip().endswith("False")


# The heavy third-party modules (skills/lazy.py) a route served from the index file must not import:
# each costs a route_task process milliseconds, and none is needed unless the index is rebuilt
# (yaml), a .env file exists (dotenv), Claude is called (anthropic) or a data source is read.
NOT_ON_THE_ROUTE_PATH = ("yaml", "dotenv", "anthropic", "psycopg2", "paramiko", "mcp")
# Nor what only building the index needs (skills/lazy.py's routing_index and index_writer).
BUILD_ONLY = (
    "skills.routing.index",
    "skills.routing.fitting",
    "skills.routing.calibration",
    "skills.routing.index_file_writer",
)


def test_a_cached_route_imports_no_heavy_third_party_module(tmp_path):
    env = {**os.environ, "ORCHESTRATOR_STATE_DIR": str(tmp_path), "ORCHESTRATOR_ENV_FILE": str(tmp_path / "none")}
    code = (
        f"import sys; sys.path.insert(0, {ROOT!r}); sys.argv=['route_task','--task','check cpu'];"
        "from skills.commands.route_task import main; main();"
        f"print(sorted(name for name in {NOT_ON_THE_ROUTE_PATH + BUILD_ONLY!r} if name in sys.modules))"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
        for _ in range(2)  # the first builds the index file, the second is served from it
    ]
    assert any(name.endswith(".index") for name in os.listdir(tmp_path / "cache"))  # the first built it (in a child)
    assert runs[1].stdout.splitlines()[-1] == "[]"


def test_a_route_with_a_env_file_reads_it_with_python_dotenv(tmp_path):
    (tmp_path / "test.env").write_text("ORCHESTRATOR_MAX_TURNS=3\n")
    env = {**os.environ, "ORCHESTRATOR_STATE_DIR": str(tmp_path), "ORCHESTRATOR_ENV_FILE": str(tmp_path / "test.env")}
    code = (
        f"import sys; sys.path.insert(0, {ROOT!r}); sys.argv=['route_task','--task','check cpu'];"
        "from skills.commands.route_task import main; main(); print('dotenv' in sys.modules, 'yaml' in sys.modules)"
    )
    for _ in range(2):
        run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    assert run.stdout.splitlines()[-1] == "True False"


def test_shipped_registry_matches_agent_folders():
    """Every agent has a prompt and its tools (a tools module, or a data agent's generic data tools)
    provide each tool the registry names."""
    from skills.execution.data import agent_tools

    registry = load_registry(os.path.join(ROOT, "registry", "agents.yaml"))
    assert len(registry["agents"]) == 5
    for agent in registry["agents"]:
        folder = os.path.join(ROOT, "agents", agent["id"])
        assert os.path.isfile(os.path.join(folder, "prompt.md")), agent["id"]
        tools = agent_tools(os.path.join(ROOT, "agents"), agent)
        for entry in agent.get("tools", []):
            assert entry["name"] in tools, f"{agent['id']} lacks tool {entry['name']}"
    assert os.path.isfile(os.path.join(BIN, "route_task"))


def test_default_tool_must_be_one_of_the_agents_tools(tmp_path):
    agent = {**GOOD, "tools": [{"name": "list_things"}], "default_tool": "drop_things"}
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(write(tmp_path, {"agents": [agent]}))
    assert caught.value.field == "default_tool"


COLUMN = {"source": "database", "table": "contractors", "column": "name"}


@pytest.mark.parametrize(
    "entities, field, words",
    [
        ("contractors", "entities", "must be a list"),
        (["contractors"], "entities[0]", "must be a mapping"),
        ([COLUMN, {"source": "redis"}], "entities[1].source", "must be one of database, convex"),
        ([{"source": "database", "table": "contractors"}], "entities[0].column", "must be a column name"),
        ([{**COLUMN, "table": "contractors; drop table rfqs"}], "entities[0].table", "must be a table name"),
        ([{**COLUMN, "column": "a.b"}], "entities[0].column", "must be a column name"),
        ([{**COLUMN, "colour": "red"}], "entities[0].colour", "is not a field"),
        ([{**COLUMN, "role": "town"}], "entities[0].role", "must be one of name, place, reference"),
        ([{**COLUMN, "where": "kind = 'supplier'"}], "entities[0].where", "must be a mapping"),
        ([{**COLUMN, "where": {"kind": []}}], "entities[0].where", "non-empty string"),
        ([{"source": "database", "kind": "task_titles"}], "entities[0].kind", "must be tables"),
        ([{"source": "convex"}], "entities[0].kind", "is required for source convex"),
        ([{"source": "database", "kind": "tables", "table": "rfqs"}], "entities[0].table", "does not go with"),
    ],
)
def test_bad_entity_sources_name_the_agent_and_field(tmp_path, entities, field, words):
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(write(tmp_path, {"agents": [{**GOOD, "entities": entities}]}))
    assert caught.value.field == field
    assert words in caught.value.message
    assert "'a'" in caught.value.message


def test_good_entity_sources_load(tmp_path):
    entities = [
        {**COLUMN, "where": {"kind": ["supplier", "vendor"]}, "role": "reference"},
        {"source": "database", "table": "public.projects", "column": "city", "role": "place"},
        {"source": "database", "kind": "tables"},
        {"source": "convex", "kind": "task_titles"},
    ]
    registry = load_registry(write(tmp_path, {"agents": [{**GOOD, "entities": entities}]}))
    assert registry["agents"][0]["entities"] == entities
    assert registry["index"]["entity_backends"] == ("convex", "database")
