"""Entities: names in the agents' own data (the real demo PostgreSQL, Convex) route tasks to their owner."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import psycopg2
import pytest
import yaml

from skills.registry.loader import read_routing_inputs, routing_input_path
from tests.fixtures.scripts import ROOT, clean_env, run_script

DATA = os.path.join(ROOT, "tests", "data")
AGENT = {"name": "X", "category": "c", "description": "d", "status": "active", "model": "m", "cost_per_query": 0.0}


def labelled(name: str) -> list[dict]:
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def route_all(tasks: list[str], env: dict) -> list[dict]:
    """Route every task through one `bin/route_task --jsonl` process."""
    run = run_script("route_task", "--jsonl", stdin="".join(json.dumps({"task": t}) + "\n" for t in tasks), env=env)
    return [json.loads(line) for line in run.stdout.splitlines()]


def refresh(env: dict):
    return run_script("refresh_entities", env=env)


def sql(url: str, statement: str, params=None) -> list[tuple]:
    """SQL run apart from the code under test."""
    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def age_entities(state_dir: str, seconds: float) -> None:
    """Make the stored names look `seconds` old (the TTL is read off the file's modification time)."""
    path = routing_input_path(state_dir, "entities")
    then = time.time() - seconds
    os.utime(path, (then, then))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def db_env(state_dir, pg_url) -> dict:
    return clean_env(state_dir, DATABASE_URL=pg_url)


def write_registry(tmp_path, agents: list[dict]) -> str:
    path = tmp_path / "agents.yaml"
    path.write_text(yaml.safe_dump({"agents": [{**AGENT, **agent} for agent in agents]}))
    return str(path)


# ---------------------------------------------------------------- reading


def test_refresh_reads_each_agents_declared_sources_from_the_database(db_env, state_dir, pg_url):
    run = refresh(db_env)
    assert run.returncode == 0, run.stdout
    report = run.json
    agents = report["agents"]
    contractors = sql(pg_url, "SELECT count(*) FROM contractors")[0][0]
    places = sql(pg_url, "SELECT count(*) FROM (SELECT city FROM contractors UNION SELECT province FROM contractors) t")
    project_names = sql(
        pg_url,
        "SELECT count(*) FROM (SELECT name FROM projects UNION SELECT code FROM projects "
        "UNION SELECT name FROM sites UNION SELECT code FROM sites) t",
    )
    suppliers = sql(pg_url, "SELECT count(*) FROM contractors WHERE kind IN ('supplier', 'vendor')")[0][0]
    assert agents["contractor-agent"]["names"] == contractors
    assert agents["contractor-agent"]["places"] == places[0][0]
    assert agents["project-agent"]["names"] == project_names[0][0]
    assert agents["neon-database"]["references"] == suppliers
    assert "CONVEX_URL" in agents["convex-database"]["skipped"]
    assert report["errors"] == {}

    stored = read_routing_inputs(state_dir)["entities"]
    assert "Thuthuka Installations" in stored["agents"]["contractor-agent"]
    assert {"boq_items", "homes_passed_target", "contractors"} <= set(stored["identifiers"]["neon-database"])
    assert "Fibretech Supplies" in stored["references"]["neon-database"]
    assert "Thuthuka Installations" not in stored["references"]["neon-database"]  # `where: {kind: ...}` applies


# ---------------------------------------------------------------- routing by name


def test_tasks_naming_entities_go_to_their_owner_and_only_because_of_the_names(db_env, tmp_path):
    cases = labelled("routing_entities.jsonl")
    tasks = [case["task"] for case in cases]
    assert refresh(db_env).returncode == 0
    for case, result in zip(cases, route_all(tasks, db_env), strict=True):
        assert result["status"] in ("routed", "high_confidence"), (case, result)
        assert result["agent"]["agent_id"] == case["agent"], (case, result)
        assert case["entity"] in result["agent"]["matched_keywords"], (case, result)

    without = route_all(tasks, clean_env(str(tmp_path)))  # no database: the same router without the names
    right = [r for case, r in zip(cases, without, strict=True) if (r["agent"] or {}).get("agent_id") == case["agent"]]
    # the data agents' lexicon words are evidence of their own ("PO" in PO-2026-00001, "email address"):
    # without the names at most half route right
    assert len(right) <= len(cases) / 2


def test_unrelated_requests_that_name_a_town_are_still_refused(db_env):
    assert refresh(db_env).returncode == 0
    cases = labelled("routing_entities_unrelated.jsonl")
    for case, result in zip(cases, route_all([c["task"] for c in cases], db_env), strict=True):
        assert result["status"] == "no_match", (case, result)


def test_explain_shows_the_entity_as_the_database_spells_it(db_env):
    assert refresh(db_env).returncode == 0
    partial, typo = route_all(["How is Thuthuka rated?", "Thutuka phone number"], db_env)
    typo_run = run_script("route_task", "--task", "Thutuka phone number", "--explain", env=db_env).json
    partial_run = run_script("route_task", "--task", "Is Ikhwezi still active?", "--explain", env=db_env).json
    assert "Thuthuka Installations" in partial["agent"]["matched_keywords"]
    assert "Thuthuka Installations" in typo["agent"]["matched_keywords"]
    kinds = {(c["term"], c["kind"]) for c in typo_run["agent"]["explain"]["contributions"]}
    assert ("thutuka~thuthuka", "entity") in kinds
    assert ("ikhwezi", "entity") in {(c["term"], c["kind"]) for c in partial_run["agent"]["explain"]["contributions"]}


@pytest.mark.parametrize(
    "task, agent",
    [
        ("Bokamoso load average", "vps-monitor"),  # one name word does not beat another agent's trigger phrase
        ("Is Maluti Networks active?", "contractor-agent"),  # a whole name does, though "network" is a trigger
        ("Which purchase orders went to Fibretech Supplies?", "neon-database"),  # a reference beside a phrase
        ("Who is our rep at ConnectPoint Closures?", "contractor-agent"),  # a reference alone counts for nothing
    ],
)
def test_name_evidence_against_trigger_evidence(db_env, task, agent):
    assert refresh(db_env).returncode == 0
    [result] = route_all([task], db_env)
    assert result["status"] in ("routed", "high_confidence"), result
    assert result["agent"]["agent_id"] == agent


def test_generic_words_of_names_do_not_route_alone(db_env):
    assert refresh(db_env).returncode == 0
    results = route_all(["solutions", "pty ltd", "installations", "Johannesburg", "Gauteng", "the reef"], db_env)
    for result in results:
        entity_keywords = [k for k in (result["agent"] or {}).get("matched_keywords", []) if k[:1].isupper()]
        assert result["status"] == "no_match" or not entity_keywords, result


def explained(task: str, env: dict) -> dict:
    run = run_script("route_task", "--task", task, "--explain", env=env)
    return run.json


def entity_terms(candidate: dict | None) -> list[str]:
    """The entity evidence of one candidate (an `agent`, an alternative or a suggestion) of an --explain route."""
    return [c["term"] for c in (candidate or {}).get("explain", {}).get("contributions", []) if c["kind"] == "entity"]


def test_a_record_number_newer_than_the_names_goes_to_the_agent_with_numbers_like_it(db_env, pg_url):
    """A purchase order raised since the names were read: its number is in the format of the database's."""
    assert refresh(db_env).returncode == 0
    numbers = {row[0] for row in sql(pg_url, "SELECT po_number FROM purchase_orders")}
    unseen = "".join("9" if ch.isdigit() else ch for ch in min(numbers))  # PO-2024-00001 -> PO-9999-99999
    assert unseen not in numbers

    result = explained(f"Where is {unseen} at?", db_env)
    assert result["agent"]["agent_id"] == "neon-database", result
    assert unseen in result["agent"]["matched_keywords"]
    assert [t for t in entity_terms(result["agent"]) if t.startswith(f"{unseen.lower()} like PO-")]

    without = explained(f"Where is {unseen} at?", clean_env(db_env["ORCHESTRATOR_STATE_DIR"] + "-none"))
    assert not [t for t in entity_terms(without["agent"]) if " like " in t]  # the names' formats did it


def test_a_format_counts_once_enough_of_an_agents_names_share_it(probe_table, crews_registry, state_dir, pg_url):
    env = clean_env(state_dir, DATABASE_URL=pg_url, ORCHESTRATOR_REGISTRY=crews_registry, ORCHESTRATOR_ENTITY_TTL="0")
    for name in ("QX-101", "QX-102", "ZR-5001", "ZR-5002", "ZR-5003"):
        probe_table(name)
    assert refresh(env).returncode == 0
    family, pair, known, twice = (
        explained(task, env)
        for task in ("who is on ZR-7777", "who is on QX-999", "who is on ZR-5002", "ZR-7777: who is on zr-7777?")
    )
    assert family["agent"]["agent_id"] == "crews-agent"
    assert entity_terms(family["agent"]) == ["zr-7777 like ZR-5001"]
    assert entity_terms(twice["agent"]) == ["zr-7777 like ZR-5001"]  # one number, however often it is written
    assert pair["status"] == "no_match"  # two names of a format are not a family
    assert known["agent"]["agent_id"] == "crews-agent"
    assert entity_terms(known["agent"]) == ["zr 5002"]  # a name it holds counts as that name, not again as a format


def test_a_code_counts_whole_never_by_one_of_its_words(probe_table, crews_registry, state_dir, pg_url):
    """A stock code's parts are abbreviations and everyday words ("POL-9M-WOOD"): "wood" is no name."""
    env = clean_env(state_dir, DATABASE_URL=pg_url, ORCHESTRATOR_REGISTRY=crews_registry, ORCHESTRATOR_ENTITY_TTL="0")
    probe_table("TRK-7-MAPLE")
    assert refresh(env).returncode == 0
    syrup, whole = (explained(task, env) for task in ("maple syrup on pancakes", "who is on TRK-7-MAPLE"))
    candidates = [syrup["agent"], *syrup["alternatives"], *syrup.get("suggestions", [])]
    assert not [term for candidate in candidates for term in entity_terms(candidate)]
    assert whole["agent"]["agent_id"] == "crews-agent"
    assert entity_terms(whole["agent"]) == ["trk 7 maple"]


# ---------------------------------------------------------------- freshness


@pytest.fixture
def probe_table(pg_target):
    """A table of crew names the test can change, readable by the agents' read-only role."""
    sql(
        pg_target.admin_url,
        "CREATE SCHEMA entity_probe; CREATE TABLE entity_probe.crews (name text); "
        "GRANT USAGE ON SCHEMA entity_probe TO PUBLIC; GRANT SELECT ON ALL TABLES IN SCHEMA entity_probe TO PUBLIC",
    )
    try:
        yield lambda name: sql(pg_target.admin_url, "INSERT INTO entity_probe.crews VALUES (%s)", (name,))
    finally:
        sql(pg_target.admin_url, "DROP SCHEMA entity_probe CASCADE")


@pytest.fixture
def crews_registry(tmp_path) -> str:
    return write_registry(
        tmp_path,
        [
            {
                "id": "crews-agent",
                "triggers": ["roster"],
                "entities": [{"source": "database", "table": "entity_probe.crews", "column": "name"}],
            },
            {"id": "weather-agent", "triggers": ["weather", "forecast"]},
        ],
    )


def test_names_older_than_the_ttl_are_refreshed_by_the_next_route(probe_table, crews_registry, state_dir, pg_url):
    env = clean_env(
        state_dir, DATABASE_URL=pg_url, ORCHESTRATOR_REGISTRY=crews_registry, ORCHESTRATOR_ENTITY_TTL="3600"
    )
    probe_table("Qhubeka Splicers")
    [first] = route_all(["Is Qhubeka Splicers on site today?"], env)  # never read: the first route reads them
    assert first["agent"]["agent_id"] == "crews-agent"
    fetched = read_routing_inputs(state_dir)["entities"]["fetched_at"]

    probe_table("Vukani Trenchers")
    [fresh] = route_all(["What are Vukani Trenchers doing?"], env)
    assert fresh["status"] == "no_match"  # younger than the TTL: not read again
    assert read_routing_inputs(state_dir)["entities"]["fetched_at"] == fetched

    age_entities(state_dir, 7200)
    [expired] = route_all(["What are Vukani Trenchers doing?"], env)
    assert expired["agent"]["agent_id"] == "crews-agent"
    assert "Vukani Trenchers" in expired["agent"]["matched_keywords"]
    assert read_routing_inputs(state_dir)["entities"]["fetched_at"] > fetched


def test_a_ttl_of_zero_leaves_refreshing_to_the_command(probe_table, crews_registry, state_dir, pg_url):
    env = clean_env(state_dir, DATABASE_URL=pg_url, ORCHESTRATOR_REGISTRY=crews_registry, ORCHESTRATOR_ENTITY_TTL="0")
    probe_table("Qhubeka Splicers")
    [before] = route_all(["Is Qhubeka Splicers on site today?"], env)
    assert before["status"] == "no_match"
    assert not os.path.exists(routing_input_path(state_dir, "entities"))
    assert refresh(env).json["agents"]["crews-agent"]["names"] == 1
    [after] = route_all(["Is Qhubeka Splicers on site today?"], env)
    assert after["agent"]["agent_id"] == "crews-agent"


# ---------------------------------------------------------------- no database, broken sources


def test_without_a_database_tasks_route_without_entities_and_nothing_fails(script, state_dir):
    rated = script("route_task", "--task", "How is Thuthuka rated?")
    unknown = script("route_task", "--task", "Tell me about Ikhwezi")  # only the name says whose
    assert rated.returncode == 0 and rated.json["agent"]["agent_id"] == "contractor-agent"  # the word "rated"
    assert "Thuthuka Installations" not in rated.json["agent"]["matched_keywords"]
    assert unknown.returncode == 1 and unknown.json["status"] == "no_match" and "error" not in unknown.json
    assert not os.path.exists(routing_input_path(state_dir, "entities"))  # nothing to read: nothing written

    run = script("refresh_entities")
    assert run.returncode == 0, run.stdout
    assert run.json["total"] == 0
    assert all("skipped" in counts for counts in run.json["agents"].values())
    assert "NEON_DATABASE_URL" in run.json["agents"]["contractor-agent"]["skipped"]


def test_a_broken_database_is_reported_without_its_password_and_old_names_are_kept(db_env, state_dir):
    assert refresh(db_env).returncode == 0
    secret = "Sup3rSecretPw"
    broken = {**db_env, "DATABASE_URL": f"postgresql://fibreflow_reader:{secret}@127.0.0.1:{closed_port()}/fibreflow"}
    run = refresh(broken)
    assert run.returncode == 3
    assert secret not in run.stdout + run.stderr
    assert set(run.json["errors"]) == {"contractor-agent", "neon-database", "project-agent"}
    assert "cannot connect" in run.json["errors"]["contractor-agent"]
    assert run.json["agents"]["contractor-agent"]["names"] > 0  # the names read before are kept

    age_entities(state_dir, 7200)  # due again, and the route's refresh fails too: the route goes on
    routed = run_script("route_task", "--task", "Tell me about Ikhwezi", env=broken)
    assert routed.returncode == 0, routed.stdout
    assert routed.json["agent"]["agent_id"] == "contractor-agent"
    assert secret not in routed.stdout + routed.stderr


def test_a_missing_table_is_an_error_of_that_source_only(tmp_path, state_dir, pg_url):
    registry = write_registry(
        tmp_path,
        [
            {
                "id": "ghost",
                "triggers": ["ghost"],
                "entities": [{"source": "database", "table": "no_such_table", "column": "name"}],
            },
            {
                "id": "firms",
                "triggers": ["firm"],
                "entities": [{"source": "database", "table": "contractors", "column": "name"}],
            },
        ],
    )
    run = refresh(clean_env(state_dir, DATABASE_URL=pg_url, ORCHESTRATOR_REGISTRY=registry))
    assert run.returncode == 3
    assert list(run.json["errors"]) == ["ghost"]
    assert "no_such_table.name" in run.json["errors"]["ghost"]
    assert run.json["agents"]["firms"]["names"] == sql(pg_url, "SELECT count(*) FROM contractors")[0][0]


# ---------------------------------------------------------------- Convex


def test_convex_task_titles_route_to_the_task_agent(fake_convex, state_dir):
    env = clean_env(state_dir, **fake_convex.env())
    run = refresh(env)
    assert run.returncode == 0, run.stdout
    assert run.json["agents"]["convex-database"]["titles"] == len(fake_convex.tasks)
    [result] = route_all(["Has the Midrand trench wayleave permit been submitted?"], env)
    assert result["agent"]["agent_id"] == "convex-database"
    assert "Submit the wayleave permit for the Midrand trench" in result["agent"]["matched_keywords"]

    fake_convex.http_error_next(401, {"code": "Unauthorized", "message": "bad key"})
    failed = refresh(env)
    assert failed.returncode == 3 and "convex-database" in failed.json["errors"]
    assert fake_convex.deploy_key not in failed.stdout
    assert failed.json["agents"]["convex-database"]["titles"] == len(fake_convex.tasks)  # kept


def test_a_route_with_fresh_names_imports_no_database_driver(db_env):
    """Names younger than the TTL cost a stat: the route path stays import-light."""
    assert refresh(db_env).returncode == 0
    code = (
        "import sys; sys.argv=['route_task','--task','How is Thuthuka rated?'];"
        "from skills.commands.route_task import main; main(); print('psycopg2' in sys.modules)"
    )
    for _ in range(2):  # the first rebuilds the cached index from the new names, the second reads it
        run = subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=db_env, cwd=ROOT
        )
        assert run.returncode == 0, run.stderr
        assert "Thuthuka Installations" in run.stdout
    assert run.stdout.strip().endswith("False")
