"""Data agents in the registry: `data:` and lexicons validated per field, lexicon words routing to their agent,
schemas read through the read-only connection and cached with the routing names (the real demo PostgreSQL)."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from skills.answers.lexicon import check_against, lexicon_from_document
from skills.answers.model import Column, Schema, Table
from skills.config import Settings
from skills.errors import RegistryInvalid
from skills.registry.loader import load_registry, read_routing_inputs
from skills.routing import route
from tests.fixtures.scripts import ROOT, clean_env, run_script

GOOD = {
    "id": "a",
    "name": "A",
    "category": "c",
    "description": "d",
    "status": "active",
    "model": "m",
    "cost_per_query": 0.001,
    "triggers": ["ledger"],
}


def write(tmp_path, agents: list[dict], lexicons: dict[str, object] | None = None) -> str:
    for name, document in (lexicons or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    path = tmp_path / "agents.yaml"
    path.write_text(yaml.safe_dump({"agents": agents}))
    return str(path)


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"url_env": "NEON_DATABASE_URL", "colour": "red"}, "data.colour", "not a field of data"),
        ({}, "data.url_env", "environment variable"),
        ({"url_env": "postgres://u:p@h/db"}, "data.url_env", "environment variable"),
        ({"url_env": "X_URL", "tables": "contractors"}, "data.tables", "non-empty list"),
        ({"url_env": "X_URL", "tables": ["ok", "no; drop"]}, "data.tables", "table names"),
        ({"url_env": "X_URL", "tables": ["a", "a"]}, "data.tables", "twice"),
        ({"url_env": "X_URL", "lexicon": "/etc/lexicon.yaml"}, "data.lexicon", "relative to the registry"),
    ],
)
def test_a_bad_data_declaration_names_the_agent_and_the_field(tmp_path, data, field, words):
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(write(tmp_path, [{**GOOD, "data": data}]))
    assert caught.value.field == field
    assert words in caught.value.message
    assert caught.value.details["agent"] == "a"


@pytest.mark.parametrize(
    "document, field, words",
    [
        ({"synonyms": {}}, "synonyms", "unknown section"),
        ({"tables": ["PO"]}, "tables", "must be a mapping"),
        ({"tables": {"orders": []}}, "tables.orders", "non-empty list"),
        ({"columns": {"budget": ["costly"]}}, "columns.budget", "table.column"),
        ({"columns": {"projects.budget": [""]}}, "columns.projects.budget", "non-empty words"),
        ({"values": {"orders.status": ["open"]}}, "values.orders.status", "map stored values"),
        ({"totals": {"quantity": ["stock"]}}, "totals.quantity", "table.column"),
        ({"totals": {"orders.quantity": []}}, "totals.orders.quantity", "non-empty list"),
        (
            {"conditions": {"orders.due_on > clients.since": ["late"]}},
            "conditions.orders.due_on > clients.since",
            "one table",
        ),
        (
            {"conditions": {"orders.due_on after orders.sent_on": ["late"]}},
            "conditions.orders.due_on after orders.sent_on",
            "compare two columns",
        ),
    ],
)
def test_a_bad_lexicon_is_registry_invalid_naming_the_file_and_the_entry(tmp_path, document, field, words):
    agent = {**GOOD, "data": {"url_env": "X_URL", "lexicon": "lexicon/a.yaml"}}
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(write(tmp_path, [agent], {"lexicon/a.yaml": document}))
    assert caught.value.field == field
    assert words in caught.value.message
    assert caught.value.details["file"].endswith(os.path.join("lexicon", "a.yaml"))


def test_a_missing_lexicon_file_is_registry_invalid_naming_it(tmp_path):
    agent = {**GOOD, "data": {"url_env": "X_URL", "lexicon": "lexicon/none.yaml"}}
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(write(tmp_path, [agent]))
    assert "none.yaml" in caught.value.message and caught.value.field == "data.lexicon"


SCHEMA = Schema(
    (
        Table("orders", (Column("id", "integer"), Column("status", "text", values=("open", "shipped")))),
        Table("clients", (Column("id", "integer"), Column("title", "text"))),
    )
)


@pytest.mark.parametrize(
    "document, field, words",
    [
        ({"tables": {"invoices": ["bill"]}}, "tables.invoices", "no table 'invoices'"),
        ({"columns": {"orders.amount": ["value"]}}, "columns.orders.amount", "no column 'amount'"),
        ({"values": {"clientz.title": {"x": ["y"]}}}, "values.clientz.title", "no table 'clientz'"),
        ({"values": {"orders.status": {"lost": ["gone"]}}}, "values.orders.status.lost", "no value 'lost'"),
        ({"totals": {"orders.amount": ["takings"]}}, "totals.orders.amount", "no column 'amount'"),
        ({"totals": {"orders.status": ["statuses"]}}, "totals.orders.status", "not a number"),
        ({"conditions": {"orders.id > orders.due": ["odd"]}}, "conditions.orders.id > orders.due", "no column 'due'"),
        (
            {"conditions": {"orders.id > orders.status": ["odd"]}},
            "conditions.orders.id > orders.status",
            "two numbers or two dates",
        ),
        (
            {"conditions": {"sum(clients.id) > orders.id": ["odd"]}},
            "conditions.sum(clients.id) > orders.id",
            "no foreign key",
        ),
    ],
)
def test_a_lexicon_naming_what_the_schema_does_not_hold_is_refused_by_name(document, field, words):
    lexicon = lexicon_from_document(document, "lex.yaml")
    with pytest.raises(RegistryInvalid) as caught:
        check_against(lexicon, SCHEMA, "lex.yaml", "a")
    assert caught.value.field == field
    assert words in caught.value.message


def test_a_lexicon_the_schema_holds_passes_and_a_value_of_an_unlisted_column_is_not_judged():
    lexicon = lexicon_from_document(
        {
            "tables": {"orders": ["PO"]},
            "columns": {"clients.title": ["client name"]},
            "values": {"orders.status": {"open": ["outstanding"]}, "clients.title": {"Acme": ["the big client"]}},
        },
        "lex.yaml",
    )
    check_against(lexicon, SCHEMA, "lex.yaml", "a")  # clients.title lists no values: any value may be meant


def test_lexicon_words_are_routing_evidence_for_their_agent_only(tmp_path):
    registry_dir = tmp_path / "registry"
    shutil.copytree(os.path.join(ROOT, "registry"), registry_dir)
    registry = load_registry(str(registry_dir / "agents.yaml"))
    assert route(registry, "Which POs are still outstanding?")["agent"]["agent_id"] == "neon-database"
    assert route(registry, "how many subbies have we got")["agent"]["agent_id"] == "contractor-agent"
    assert route(registry, "list the hookups")["agent"]["agent_id"] == "project-agent"
    # the word counts because the lexicon says so: without it, nothing takes the task
    lexicon = registry_dir / "lexicon" / "projects.yaml"
    document = yaml.safe_load(lexicon.read_text())
    document["tables"]["installations"] = ["install", "installs"]
    lexicon.write_text(yaml.safe_dump(document))  # an edited lexicon rebuilds the index: it keys the cache
    edited = load_registry(str(registry_dir / "agents.yaml"))
    assert route(edited, "list the hookups")["agent"] is None


@pytest.fixture
def db_env(tmp_path, pg_url) -> dict:
    return clean_env(str(tmp_path / "state"), DATABASE_URL=pg_url)


def test_refresh_reads_each_data_agents_schema_once_and_keeps_it_with_the_names(db_env, tmp_path):
    run = run_script("refresh_entities", env=db_env)
    assert run.returncode == 0, run.stdout
    assert run.json["agents"]["contractor-agent"]["tables"] == 3
    stored = read_routing_inputs(db_env["ORCHESTRATOR_STATE_DIR"])["entities"]["schemas"]
    project_tables = {table["name"] for table in stored["project-agent"]["tables"]}
    assert project_tables == {"projects", "sites", "installations", "project_contractors", "contractors"}
    status = next(
        column
        for table in stored["neon-database"]["tables"]
        if table["name"] == "purchase_orders"
        for column in table["columns"]
        if column["name"] == "status"
    )
    assert set(status["values"]) == {"draft", "issued", "delivered", "invoiced", "cancelled"}


def test_who_is_pm_on_a_named_project_routes_to_the_project_agent_once_names_are_read(db_env, pg_url):
    assert run_script("refresh_entities", env=db_env).returncode == 0
    settings = Settings(db_env)
    registry = load_registry(settings.registry_path, settings.state_dir)
    assert route(registry, "who's PM on Tembisa")["agent"]["agent_id"] == "project-agent"
    assert route(registry, "open POs?")["agent"]["agent_id"] == "neon-database"


def test_a_lexicon_word_for_a_column_the_database_lacks_is_reported_by_the_refresh(db_env, tmp_path):
    registry_dir = tmp_path / "registry"
    shutil.copytree(os.path.join(ROOT, "registry"), registry_dir)
    lexicon = registry_dir / "lexicon" / "contractors.yaml"
    document = yaml.safe_load(lexicon.read_text())
    document["columns"]["contractors.hourly_rate"] = ["rate per hour"]
    lexicon.write_text(yaml.safe_dump(document))
    run = run_script("refresh_entities", env={**db_env, "ORCHESTRATOR_REGISTRY": str(registry_dir / "agents.yaml")})
    assert run.returncode == 3
    assert "hourly_rate" in run.json["errors"]["contractor-agent"]
    assert "project-agent" not in run.json["errors"]
