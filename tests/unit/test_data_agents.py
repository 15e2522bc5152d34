"""Data agents answered by the interpreter, through bin/execute_agent against the real demo PostgreSQL:
direct answers with their interpretation, SQL and rows; refusals in words (read_only, model_required,
not_found); with a key, understood questions still make no model call and the rest reach the Messages API
double with the schema summary; an agent over another database declared in YAML alone."""

from __future__ import annotations

import os
import re
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import yaml

from skills.gateway.replies import CODE_STATUS
from tests.fixtures.fake_anthropic import reply_text
from tests.fixtures.postgres import _admin_execute, database_url
from tests.fixtures.scripts import ROOT


def truth(url: str, statement: str, params=None):
    """SQL run apart from the code under test."""
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()
    finally:
        connection.close()


@pytest.fixture
def db(script, pg_url):
    """bin/execute_agent against the demo database, offline unless `env` says otherwise."""

    def run(agent: str, query: str, env: dict | None = None, *extra: str):
        return script(
            "execute_agent", "--agent", agent, "--query", query, *extra, env={"DATABASE_URL": pg_url, **(env or {})}
        )

    return run


def test_a_count_is_answered_from_one_query_with_its_reading_sql_and_rows(db, pg_url):
    run = db("neon-database", "How many purchase orders are in draft?")
    assert run.returncode == 0, run.stdout
    body = run.json
    expected = truth(pg_url, "SELECT count(*) FROM purchase_orders WHERE status = 'draft'")[0][0]
    assert body["mode"] == "direct" and body["cost_usd"] in (0, 0.0, None)
    assert str(expected) in body["response"]
    assert "draft" in body["interpretation"]
    assert "'draft'" in body["sql"] and "%s" not in body["sql"]  # parameters inline, as run
    assert truth(pg_url, body["sql"])[0][0] == expected  # the statement shown is the statement run
    assert isinstance(body["data"], list) and isinstance(body["data"][0], dict)
    assert body["tool_calls"] == []


@pytest.mark.parametrize(
    "agent, request_",
    [
        ("contractor-agent", "Delete all contractors"),
        ("contractor-agent", "Drop table contractors"),
        ("contractor-agent", "Set Highveld Civils to active"),
        ("neon-database", "Cancel purchase order PO-2026-00012"),
    ],
)
def test_a_request_to_change_data_is_refused_read_only_and_nothing_runs(db, pg_url, agent, request_):
    before = truth(pg_url, "SELECT count(*), count(*) FILTER (WHERE status = 'active') FROM contractors")
    run = db(agent, request_)
    assert run.returncode == 1, run.stdout
    assert run.json["code"] == "read_only"
    assert "nothing was changed" in run.json["error"].lower()
    assert truth(pg_url, "SELECT count(*), count(*) FILTER (WHERE status = 'active') FROM contractors") == before


def test_read_only_is_422_and_ambiguous_409_over_http():
    assert CODE_STATUS["read_only"] == 422
    assert CODE_STATUS["ambiguous"] == 409


def test_a_word_the_interpreter_does_not_know_is_model_required_naming_it(db):
    run = db("neon-database", "Which purchase orders are zorbulated?")
    assert run.returncode == 2, run.stdout
    assert run.json["code"] == "model_required"
    assert "zorbulated" in run.json["details"]["words"]
    assert "zorbulated" in run.json["error"]


def test_catalogue_questions_are_still_answered_offline_by_the_data_tools(db, pg_url):
    run = db("neon-database", "describe table rfqs")
    assert run.returncode == 0, run.stdout
    assert [call["name"] for call in run.json["tool_calls"]] == ["describe_table"]
    columns = {
        row[0] for row in truth(pg_url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'rfqs'")
    }
    assert {c["column"] for c in run.json["data"]["columns"]} == columns


def test_a_data_agents_catalogue_is_its_own_tables(db):
    run = db("contractor-agent", "list the tables in the database")
    assert run.returncode == 0, run.stdout
    assert {row["name"] for row in run.json["data"]} == {"contractors", "project_contractors", "projects"}


# ---------------------------------------------------------------- with a key (the Messages API double)


def test_with_a_key_an_understood_question_makes_no_model_call(db, fake_anthropic):
    run = db("neon-database", "How many purchase orders are in draft?", fake_anthropic.env())
    assert run.returncode == 0, run.stdout
    assert run.json["mode"] == "direct" and run.json["usage"] == {"input_tokens": 0, "output_tokens": 0}
    assert fake_anthropic.bodies == []


def test_with_a_key_a_change_is_refused_without_asking_the_model(db, fake_anthropic):
    run = db("contractor-agent", "Delete all contractors", fake_anthropic.env())
    assert run.returncode == 1 and run.json["code"] == "read_only"
    assert fake_anthropic.bodies == []


def test_with_a_key_what_the_interpreter_cannot_read_goes_to_the_model_with_the_schema_summary(db, fake_anthropic):
    fake_anthropic.script([reply_text("None of them are zorbulated.", input_tokens=900, output_tokens=12)])
    run = db("neon-database", "Which purchase orders are zorbulated?", fake_anthropic.env())
    assert run.returncode == 0, run.stdout
    assert run.json["mode"] == "claude" and run.json["response"] == "None of them are zorbulated."
    (body,) = fake_anthropic.bodies
    with open(os.path.join(ROOT, "agents", "neon-database", "prompt.md")) as handle:
        assert body["system"].startswith(handle.read().strip())
    assert re.search(r"- purchase_orders\(id integer, po_number text", body["system"])
    assert "status text in (draft|issued|delivered|invoiced|cancelled)" in body["system"]
    assert "PO, POs" in body["system"]  # the lexicon's words go with it
    assert {tool["name"] for tool in body["tools"]} == {
        "list_tables",
        "describe_table",
        "table_statistics",
        "run_query",
    }


def test_the_schema_summary_keeps_within_its_token_budget(db, fake_anthropic):
    fake_anthropic.script([reply_text("ok")])
    env = {**fake_anthropic.env(), "ORCHESTRATOR_SCHEMA_SUMMARY_TOKENS": "100"}
    assert db("neon-database", "Which purchase orders are zorbulated?", env).returncode == 0
    (body,) = fake_anthropic.bodies
    with open(os.path.join(ROOT, "agents", "neon-database", "prompt.md")) as handle:
        summary = body["system"][len(handle.read().strip()) :]
    assert len(summary) <= 100 * 4 + 120  # the budget, and the line that says what was left out
    assert "more lines left out" in summary


def test_smart_execute_answers_an_understood_question_directly_with_a_key(script, pg_url, fake_anthropic):
    env = {"DATABASE_URL": pg_url, **fake_anthropic.env()}
    run = script("execute_agent", "--task", "How many purchase orders are in draft?", env=env)
    assert run.returncode == 0, run.stdout
    assert run.json["agent"] == "neon-database" and run.json["mode"] == "direct"
    assert fake_anthropic.bodies == []


# ---------------------------------------------------------------- a data agent declared in YAML alone


@pytest.fixture
def shop_url(pg_target, pg_url):
    """A second database of another shape, readable by the demo's read-only role, dropped afterwards."""
    name = "shop_" + uuid.uuid4().hex[:10]
    reader = urlsplit(pg_url).username
    _admin_execute(pg_target.admin_url, f'CREATE DATABASE "{name}"')
    admin = database_url(pg_target.admin_url, name)
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE suppliers (supplier_id serial PRIMARY KEY, company_name text NOT NULL UNIQUE, "
            "is_active boolean NOT NULL, region text NOT NULL);"
            "INSERT INTO suppliers (company_name, is_active, region) VALUES "
            "('Acme Poles', true, 'North'), ('Beta Cables', false, 'South'), ('Gamma Ducts', true, 'South');"
            f'GRANT USAGE ON SCHEMA public TO "{reader}"; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{reader}";'
        )
    connection.close()
    parts = urlsplit(pg_url)
    yield urlunsplit(parts._replace(path="/" + name))
    _admin_execute(pg_target.admin_url, f'DROP DATABASE "{name}" WITH (FORCE)')


def test_a_data_agent_over_another_database_needs_only_its_registry_entry(script, tmp_path, shop_url, pg_url):
    registry = tmp_path / "agents.yaml"
    registry.write_text(
        yaml.safe_dump(
            {
                "agents": [
                    {
                        "id": "shop-agent",
                        "name": "Shop Agent",
                        "category": "data",
                        "description": "The shop's suppliers.",
                        "status": "active",
                        "model": "claude-haiku-4-5",
                        "cost_per_query": 0.001,
                        "triggers": ["supplier", "suppliers"],
                        "data": {"url_env": "SHOP_DATABASE_URL"},
                    }
                ]
            }
        )
    )
    env = {
        "ORCHESTRATOR_REGISTRY": str(registry),
        "ORCHESTRATOR_AGENTS_DIR": str(tmp_path / "no-agents"),  # no tools.py, no prompt.md
        "SHOP_DATABASE_URL": shop_url,
        "DATABASE_URL": pg_url,  # the demo database: not this agent's
    }
    listed = script("execute_agent", "--agent", "shop-agent", "--query", "list the tables in the database", env=env)
    assert listed.returncode == 0, listed.stdout
    assert [row["name"] for row in listed.json["data"]] == ["suppliers"]
    counted = script("execute_agent", "--agent", "shop-agent", "--query", "How many suppliers are there?", env=env)
    assert counted.returncode == 0, counted.stdout
    assert "3" in counted.json["response"]
    # the names its schema holds route to it, with no `entities:` declared
    no_ttl = {**env, "ORCHESTRATOR_ENTITY_TTL": "0"}  # only bin/refresh_entities reads them
    before = script("route_task", "--task", "what about Gamma Ducts?", env=no_ttl).json
    assert "Gamma Ducts" not in (before["agent"] or {}).get("matched_keywords", [])
    assert script("refresh_entities", env=no_ttl).returncode == 0
    routed = script("route_task", "--task", "what about Gamma Ducts?", env=no_ttl).json
    assert routed["agent"]["agent_id"] == "shop-agent" and "Gamma Ducts" in routed["agent"]["matched_keywords"]
    unset = script(
        "execute_agent",
        "--agent",
        "shop-agent",
        "--query",
        "How many suppliers are there?",
        env={**env, "SHOP_DATABASE_URL": "", "ORCHESTRATOR_STATE_DIR": str(tmp_path / "empty-state")},
    )
    assert unset.returncode == 2 and unset.json["code"] == "agent_not_configured"
    assert "SHOP_DATABASE_URL" in unset.json["error"]


# ---------------------------------------------------------------- no demo name in the interpreter


def _demo_names() -> set[str]:
    with open(os.path.join(ROOT, "registry", "demo", "schema.sql"), encoding="utf-8") as handle:
        text = re.sub(r"--[^\n]*", "", handle.read())
    names = set(re.findall(r"CREATE TABLE (\w+)", text))
    names |= {m for m in re.findall(r"^\s+(\w+)\s+(?:serial|text|integer|numeric|date|boolean)", text, re.MULTILINE)}
    for values in re.findall(r"IN \(([^)]*)\)", text):
        names |= set(re.findall(r"'(\w+)'", values))
    # everyday English a generic reader may well spell (a status word, a Python keyword): not telling
    generic = """id name status code type kind unit value role title total rate amount return open closed issue
    description reference address category quantity planned planning active inactive completed failed
    scheduled delayed blocked email phone area city business draft delivered cancelled issued"""
    return {n for n in names if n not in generic.split() and len(n) > 3}


def _code_text(source: str) -> str:
    """The identifiers and string literals of a module: its code, without comments and docstrings
    (which may explain a rule with an example)."""
    import ast

    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    parts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            parts.append(node.value)
        elif isinstance(node, ast.Name):
            parts.append(node.id)
        elif isinstance(node, ast.Attribute):
            parts.append(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            parts.append(node.name)
        elif isinstance(node, ast.arg):
            parts.append(node.arg)
    return "\n".join(parts).lower()


def test_no_table_column_or_value_name_of_the_demo_schema_is_in_the_interpreters_code():
    folder = os.path.join(ROOT, "skills", "answers")
    files = [f for f in os.listdir(folder) if f.startswith("interpreter") and f.endswith(".py")] + ["schema.py"]
    assert "schema.py" in files and any(f.startswith("interpreter") for f in files)
    names = _demo_names()
    assert {"purchase_orders", "homes_passed", "on_hold", "contractors"} <= names
    found = []
    for name in files:
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            code = _code_text(handle.read())
        found += [f"{name}: {word}" for word in sorted(names) if re.search(rf"\b{re.escape(word)}\b", code)]
    assert found == []


# ---------------------------------------------------------------- refusals and the summary, as values


AGENT = {"id": "a", "name": "A Agent", "data": {"url_env": "X_URL"}}


def test_each_refusal_becomes_its_error_with_a_stable_code_and_exit():
    from skills.answers.model import Refusal
    from skills.execution.data import refusal_error

    ambiguous = refusal_error(AGENT, Refusal("ambiguous", "Which one?", options=("by city", "by province")))
    assert (ambiguous.code, ambiguous.exit_status, ambiguous.details["options"]) == (
        "ambiguous",
        1,
        ["by city", "by province"],
    )
    read_only = refusal_error(AGENT, Refusal("read_only", ""))
    assert (read_only.code, read_only.exit_status) == ("read_only", 1)
    assert "Nothing was changed" in read_only.message
    missing = refusal_error(AGENT, Refusal("not_found", "No supplier named 'Zeta'.", words=("Zeta",)))
    assert (missing.code, missing.exit_status, missing.message) == ("not_found", 1, "No supplier named 'Zeta'.")
    unread = refusal_error(AGENT, Refusal("model_required", "", words=("frob",)))
    assert (unread.code, unread.details["words"]) == ("model_required", ["frob"]) and "'frob'" in unread.message


def test_the_schema_summary_names_tables_columns_values_keys_and_lexicon_words_within_its_budget():
    from skills.answers.model import Column, ForeignKey, Lexicon, Schema, Table
    from skills.execution.data import schema_summary

    schema = Schema(
        (
            Table("owners", (Column("id", "integer"), Column("title", "text")), ("id",)),
            Table(
                "boats",
                (
                    Column("id", "integer"),
                    Column("state", "text", values=("afloat", "docked")),
                    Column("owner_id", "integer"),
                ),
                ("id",),
                (ForeignKey(("owner_id",), "owners", ("id",)),),
            ),
        )
    )
    lexicon = Lexicon(tables={"boats": ("vessel", "vessels")}, values={"boats.state": {"docked": ("in port",)}})
    summary = schema_summary(schema, lexicon, 1000)
    assert (
        "- boats(id integer, state text in (afloat|docked), owner_id integer) key id; owner_id -> owners(id)" in summary
    )
    assert "vessel, vessels = table boats" in summary and "in port = boats.state 'docked'" in summary
    short = schema_summary(schema, lexicon, 0)  # below the floor: the first lines, and what was left out
    assert "more lines left out" in short and len(short) <= 200 + 80


def test_the_singular_with_the_presupposes_one_row_and_several_are_ambiguous(db, pg_url):
    """ "Show me the <place> project" when the place has several is not answered with a list of them."""
    places = truth(pg_url, "SELECT province, count(*) FROM projects GROUP BY province ORDER BY province")
    several = next(place for place, count in places if count > 1)
    names = {name for (name,) in truth(pg_url, "SELECT name FROM projects WHERE province = %s", (several,))}
    run = db("project-agent", f"Show me the {several} project")
    assert run.returncode == 1, run.stdout
    assert run.json["code"] == "ambiguous"
    assert len(run.json["details"]["options"]) == len(names)
    assert all(any(name in option for option in run.json["details"]["options"]) for name in names)
    plural = db("project-agent", f"Show me the {several} projects")  # a list is what the plural asks
    assert plural.returncode == 0, plural.stdout
    assert {row["name"] for row in plural.json["data"]} == names


def test_a_table_of_the_database_the_agent_does_not_own_is_refused_by_name(db, pg_url):
    """contractor-agent does not read `sites`: "sites" must not be taken for something of its own tables."""
    (name,) = truth(pg_url, "SELECT name FROM contractors ORDER BY name LIMIT 1")[0]
    run = db("contractor-agent", f"How many sites does {name} have?")
    assert run.returncode == 2, run.stdout
    assert run.json["code"] == "model_required"
    assert "sites" in run.json["details"]["words"]


# ---------------------------------------------------------------- readings settled by the data, and guesses


def test_contractors_alone_is_ambiguous_with_what_each_reading_gives_and_a_lexicon_entry_decides(db, pg_url):
    """The demo's contractors hold suppliers and vendors too: "contractors" alone is the whole table or
    the rows of kind 'contractor'. The refusal says what each reading gives, so the asker sees the
    difference; a lexicon that lists the word for the table decides."""
    import datetime
    from dataclasses import replace

    from skills.answers.interpreter import interpret
    from skills.answers.schema_cache import agent_lexicon, read_schema_in
    from skills.backends.database import ReadOnlySession
    from skills.config import Settings
    from skills.registry.loader import find_agent, load_registry

    kinds = dict(truth(pg_url, "SELECT kind, count(*) FROM contractors GROUP BY kind"))
    assert "contractor" in kinds and len(kinds) > 1
    run = db("contractor-agent", "How many active contractors do we have?")
    assert run.returncode == 1 and run.json["code"] == "ambiguous", run.stdout
    every = truth(pg_url, "SELECT count(*) FROM contractors WHERE status = 'active'")[0][0]
    of_kind = truth(pg_url, "SELECT count(*) FROM contractors WHERE status = 'active' AND kind = 'contractor'")[0][0]
    assert every != of_kind
    options = run.json["details"]["options"]
    assert any(option.endswith(f": {every}") and "kind" not in option for option in options), options
    assert any(option.endswith(f": {of_kind}") and "kind is contractor" in option for option in options), options
    assert f": {every}" in run.json["error"] and f": {of_kind}" in run.json["error"]

    settings = Settings({**os.environ, "DATABASE_URL": pg_url})
    agent = find_agent(load_registry(settings.registry_path, settings.state_dir), "contractor-agent")
    with ReadOnlySession(settings) as session:
        schema = read_schema_in(session, agent)
    lexicon = agent_lexicon(agent)
    deciding = replace(lexicon, tables={**lexicon.tables, "contractors": ("contractor", "contractors")})
    reading = interpret("How many active contractors do we have?", schema, deciding, today=datetime.date.today())
    assert reading.shape == "count" and "kind" not in reading.interpretation, reading


def test_readings_with_the_same_rows_are_one_answer_that_names_the_other_reading(db, pg_url):
    """A place that is both the city and the area of one project: two readings, one result."""
    rows = truth(pg_url, "SELECT name, city, spend FROM projects p WHERE city = area ORDER BY name")
    name, place, spend = next(
        row
        for row in rows
        if truth(pg_url, "SELECT count(*) FROM projects WHERE %s IN (city, area)", (row[1],))[0][0] == 1
    )
    run = db("project-agent", f"How much have we spent so far on the {place} project?")
    assert run.returncode == 0, run.stdout
    assert "also read as" in run.json["interpretation"] and "the same result" in run.json["interpretation"]
    assert name in run.json["response"] and str(spend) in run.json["response"].replace(",", "")


def test_a_name_guessed_from_part_of_its_words_does_not_answer_none(db, pg_url):
    """ "hardware" is a word of one supplier's name: read that way no subcontractor matches, which proves nothing."""
    assert truth(pg_url, "SELECT kind FROM contractors WHERE name ILIKE '%%hardware%%'") == [("supplier",)]
    run = db("contractor-agent", "Which subcontractors do hardware?")
    assert run.returncode == 2, run.stdout
    assert run.json["code"] == "model_required" and "hardware" in run.json["details"]["words"]
    assert "guessed" in run.json["error"]


def test_the_verb_of_a_stored_agent_noun_names_those_rows(db, pg_url):
    """ "supply" is what the rows of kind "supplier" do: said beside "suppliers" it asks nothing more."""
    expected = truth(pg_url, "SELECT name FROM contractors WHERE kind = 'supplier' AND specialty = 'poles'")
    assert expected
    run = db("contractor-agent", "Which suppliers can supply poles?")
    assert run.returncode == 0, run.stdout
    assert {row["name"] for row in run.json["data"]} == {name for (name,) in expected}
    assert run.json["sql"].count("'supplier'") == 1  # said twice, asked once


def test_the_verb_of_a_foreign_keys_role_joins_through_it(db, pg_url):
    """ "Who supplies X": materials.supplier_id names what the contractor does for the material."""
    (material, supplier) = truth(
        pg_url,
        "SELECT m.name, c.name FROM materials m JOIN contractors c ON c.id = m.supplier_id ORDER BY m.sku LIMIT 1",
    )[0]
    run = db("neon-database", f"Who supplies the {material}?")
    assert run.returncode == 0, run.stdout
    assert [row["name"] for row in run.json["data"]] == [supplier]


def test_the_doers_column_answers_to_its_verb(db, pg_url):
    manager, names = truth(
        pg_url, "SELECT project_manager, array_agg(name) FROM projects GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )[0]
    run = db("project-agent", f"What projects is {manager} managing?")
    assert run.returncode == 0, run.stdout
    assert {row["name"] for row in run.json["data"]} == set(names)


def test_smart_execute_hands_a_task_to_the_data_agent_that_owns_its_tables(script, pg_url):
    (contractor, installs) = truth(
        pg_url,
        "SELECT c.name, count(i.id) FROM contractors c JOIN installations i ON i.contractor_id = c.id "
        "GROUP BY c.name ORDER BY 2 DESC LIMIT 1",
    )[0]
    task = f"How many installations does {contractor} have?"
    routed = script("route_task", "--task", task, env={"DATABASE_URL": pg_url})
    assert routed.json["agent"] and routed.json["agent"]["agent_id"] == "contractor-agent"  # it lacks installations
    run = script("execute_agent", "--task", task, env={"DATABASE_URL": pg_url})
    assert run.returncode == 0, run.stdout
    assert run.json["agent"] == "project-agent"
    assert "contractor-agent could not read" in run.json["routing"]["settled_by"]
    assert str(installs) in run.json["response"]


def test_a_change_asked_when_routing_cannot_choose_between_data_agents_is_read_only(script, pg_url):
    task = "Raise a PO for R50k with Fibretech Supplies for the Polokwane project"
    routed = script("route_task", "--task", task, env={"DATABASE_URL": pg_url})
    assert routed.json["status"] == "multiple_matches"
    run = script("execute_agent", "--task", task, env={"DATABASE_URL": pg_url})
    assert run.returncode == 1, run.stdout
    assert run.json["code"] == "read_only"


def test_over_budget_compares_the_spend_with_the_budget_of_each_project(db, pg_url):
    over = {name for (name,) in truth(pg_url, "SELECT name FROM projects WHERE spend > budget")}
    assert over and len(over) < len(truth(pg_url, "SELECT 1 FROM projects"))
    run = db("project-agent", "Which projects are over budget?")
    assert run.returncode == 0, run.stdout
    assert {row["name"] for row in run.json["data"]} == over
    (area,) = truth(
        pg_url,
        "SELECT area FROM projects p WHERE spend > budget"
        " AND (SELECT count(*) FROM projects q WHERE p.area IN (q.area, q.city)) = 1 ORDER BY area LIMIT 1",
    )[0]  # a place that names this one project only
    asked = db("project-agent", f"Is the {area} project over budget?")
    assert asked.returncode == 0 and asked.json["response"].startswith("Yes"), asked.stdout


def test_a_yes_no_question_about_one_project_names_it_and_several_or_none_are_no_answer(db, pg_url):
    rows = truth(pg_url, "SELECT area, name, spend > budget FROM projects ORDER BY area")
    areas = [row[0] for row in rows]
    area, name, over = next(row for row in rows if areas.count(row[0]) == 1)
    run = db("project-agent", f"Is the {area} project over budget?")
    assert run.returncode == 0, run.stdout
    assert run.json["response"].startswith("Yes: " if over else "No: ") and name in run.json["response"]
    assert run.json["data"][0]["answer"] is over
    cities = [row[0] for row in truth(pg_url, "SELECT city FROM projects")]
    shared = next(city for city in cities if cities.count(city) > 1 and city not in areas)
    several = db("project-agent", f"Is the {shared} project over budget?")
    assert several.returncode == 1 and several.json["code"] == "ambiguous", several.stdout


@pytest.mark.parametrize(
    "task",
    ["How many active subcontractors do we have?", "How many active contractors do we have?"],  # read; ambiguous
)
def test_smart_execute_reads_a_task_once_per_data_agent(db_settings, monkeypatch, task):
    """Settling routing between data agents and answering share one reading (and, for an ambiguous
    question, the queries that compared its readings); outside smart execute nothing is kept."""
    from skills.answers import interpreter
    from skills.errors import OrchestratorError
    from skills.execution import data
    from skills.execution.smart import smart_execute
    from skills.registry.loader import load_registry

    read, compared = [], []
    interpret, same_result = interpreter.interpret, data.same_result
    monkeypatch.setattr(interpreter, "interpret", lambda *a, **k: read.append(a[0]) or interpret(*a, **k))
    monkeypatch.setattr(data, "same_result", lambda *a, **k: compared.append(1) or same_result(*a, **k))
    registry = load_registry(db_settings.registry_path, db_settings.state_dir)
    try:
        result, _ = smart_execute(registry, db_settings, task, None, True, llm_fallback=False)
        assert result["agent"] == "contractor-agent"
    except OrchestratorError as error:
        assert error.code == "ambiguous", error
    assert read == [task] and len(compared) <= 1, (read, compared)
    data.read_question(db_settings, next(a for a in registry["agents"] if a["id"] == "contractor-agent"), task, None)
    assert read == [task, task]  # a new request reads again


def test_finish_is_an_end_and_in_the_past_tense_the_end_that_happened(db, pg_url):
    """ "finish" is an everyday word for a column named "end"; "When did X finish?" asks for the
    end that happened (actual_end), not a planned or forecast one; "the forecast finish" names its own."""
    name, actual = truth(pg_url, "SELECT name, actual_end FROM projects WHERE actual_end IS NOT NULL ORDER BY name")[0]
    did = db("project-agent", f"When did {name} finish?")
    assert did.returncode == 0, did.stdout
    assert list(did.json["data"][0])[-1] == "actual_end" and str(actual) in did.json["response"]
    planned = db("project-agent", f"What's the forecast finish date for {name}?")
    assert planned.returncode == 0 and list(planned.json["data"][0])[-1] == "forecast_end", planned.stdout


def test_the_doers_of_a_specialty_are_the_rows_that_have_it(db, pg_url):
    """ "installers": the contractors whose specialty is installation (not the companies named "... Installers")."""
    count = truth(pg_url, "SELECT count(*) FROM contractors WHERE specialty = 'installation' AND status = 'active'")[0][
        0
    ]
    run = db("contractor-agent", "How many active installers do we have?")
    assert run.returncode == 0, run.stdout
    assert run.json["data"] == [{"count": count}] and "specialty is installation" in run.json["interpretation"]
