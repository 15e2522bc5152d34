"""Everyday questions answered offline against the demo database: the score, the judge, and honest summaries.

The labelled sets live in tests/data/everyday_questions*.yaml; their truth is computed here, from the
database, by each question's SQL (skills/evaluation/answers.py).
"""

from __future__ import annotations

import os

import pytest

from skills.errors import BadInput
from skills.evaluation.answers import compute_truths, evaluate, judge, read_questions
from skills.execution.execute import execute
from skills.registry.loader import load_registry
from tests.fixtures.scripts import ROOT

SETS = {
    "built_against": os.path.join(ROOT, "tests", "data", "everyday_questions.yaml"),
    "fresh": os.path.join(ROOT, "tests", "data", "everyday_questions_fresh.yaml"),
}


@pytest.fixture
def sql_of(pg_target):
    """Run SQL independently of the code under test (plain psycopg2)."""
    import psycopg2

    def run(statement: str):
        connection = psycopg2.connect(pg_target.url)
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
                return cursor.fetchall()
        finally:
            connection.close()

    return run


@pytest.fixture
def registry(db_settings):
    return load_registry(db_settings.registry_path, db_settings.state_dir)


def ask(registry, settings, agent: str, question: str) -> dict:
    return execute(registry, settings, agent, question, direct=True)


# -- the score -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SETS))
def test_everyday_questions_are_answered_right_offline_and_never_about_another_thing(registry, db_settings, name):
    report = evaluate(registry, db_settings, read_questions(SETS[name]))
    assert report["verdicts"]["wrong_thing"] == 0, report["misses"]
    assert report["score"] >= 0.9, report["misses"]


def test_evaluate_answers_prints_the_score(script, pg_url):
    run = script("evaluate_answers", "--format", "json", env={"DATABASE_URL": pg_url})
    assert run.returncode == 0, run.stdout
    report = run.json
    assert report["total"] == len(read_questions(SETS["built_against"]))
    assert report["right"] == report["verdicts"]["right"] and 0 <= report["score"] <= 1
    table = script("evaluate_answers", SETS["fresh"], env={"DATABASE_URL": pg_url})
    assert table.stdout.startswith("answered right offline: ")


def test_evaluate_answers_gates_on_a_minimum_score(script, pg_url, tmp_path):
    impossible = tmp_path / "impossible.yaml"
    impossible.write_text(
        "questions:\n"
        "  - {question: 'write a poem about trenching', agent: contractor-agent, truth: number,"
        " sql: 'SELECT 123456789'}\n"
    )
    run = script("evaluate_answers", str(impossible), "--min-score", "0.5", env={"DATABASE_URL": pg_url})
    assert run.returncode == 1 and "0.0%" in run.stdout


def test_a_malformed_question_set_names_the_entry(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("questions:\n  - {question: 'how many?', agent: neon-database, truth: guess}\n")
    with pytest.raises(BadInput, match="question 1: truth must be one of"):
        read_questions(str(path))


# -- the judge can fail ----------------------------------------------------------------------------


def test_the_judge_tells_a_wrong_figure_from_another_things_answer():
    question = {"question": "phone of Thuthuka?", "truth": "text", "about": "Thuthuka Installations"}
    right = {"success": True, "response": "Thuthuka Installations (...): contact X, +27 72 748 5624."}
    assert judge(question, ["+27 72 748 5624"], right) == "right"
    wrong = {"success": True, "response": "Thuthuka Installations: contact X, +27 11 000 0000."}
    assert judge(question, ["+27 72 748 5624"], wrong) == "wrong"
    other = {"success": True, "response": "Lesedi Connect Installers: +27 72 748 5624."}
    assert judge(question, ["+27 72 748 5624"], other) == "wrong_thing"
    missing = {"question": "web7 disk?", "truth": "not_found", "name": "web7"}
    assert judge(missing, None, {"success": True, "response": "localhost: / 25% used"}) == "wrong_thing"
    assert judge(missing, None, {"success": False, "code": "not_found", "error": "no server named 'web7'"}) == "right"
    counted = {"question": "how many?", "truth": "number"}
    assert judge(counted, [12], {"success": True, "response": "There are 120 open RFQs"}) == "wrong"
    assert judge(counted, [12], {"success": True, "response": "12 open RFQs, worth R 1,200.00"}) == "right"


# -- honest summaries ------------------------------------------------------------------------------


def test_a_count_and_its_list_agree(registry, db_settings, sql_of):
    late = [
        r[0]
        for r in sql_of("SELECT name FROM projects WHERE actual_end IS NULL AND forecast_end > planned_end ORDER BY 1")
    ]
    answer = ask(registry, db_settings, "project-agent", "Which projects are running late?")["response"]
    assert f"{len(late)} running late: " in answer
    named = [name for name in late if name in answer]
    more = len(late) - len(named)
    assert named and (more == 0 or f"and {more} more" in answer)


def test_a_list_says_which_companies_are_suspended_or_inactive(registry, db_settings, sql_of):
    rows = sql_of("SELECT name, status FROM contractors WHERE province = 'Western Cape' ORDER BY name")
    answer = ask(registry, db_settings, "contractor-agent", "Which contractors do we have in the Western Cape?")
    for name, status in rows:
        assert name in answer["response"]
        if status != "active":
            assert f"{status.upper()})" in answer["response"].split(name, 1)[1].split(";")[0]
    inactive = sum(status == "inactive" for _, status in rows)
    assert f"{inactive} inactive" in answer["response"]


@pytest.mark.parametrize(
    "agent, question, sql",
    [
        ("project-agent", "Is the Alexandra project over budget?", "SELECT spend > budget FROM projects WHERE area = 'Alexandra'"),
        ("contractor-agent", "Is Reef Directional Drilling active?", "SELECT status = 'active' FROM contractors WHERE name LIKE 'Reef%'"),
        ("neon-database", "Is CBL-024-ADSS below its reorder level?",
         ("SELECT sum(s.quantity) < m.reorder_level FROM materials m JOIN stock_movements s ON s.material_id = m.id "
          "WHERE m.sku = 'CBL-024-ADSS' GROUP BY m.reorder_level")),
    ],
)  # fmt: skip
def test_a_yes_no_question_gets_yes_or_no_first(registry, db_settings, sql_of, agent, question, sql):
    truth = sql_of(sql)[0][0]
    answer = ask(registry, db_settings, agent, question)["response"]
    assert answer.startswith("Yes. " if truth else "No. "), answer


def test_a_named_contractor_is_answered_about_that_contractor(registry, db_settings, sql_of):
    name, rating = sql_of("SELECT name, rating::text FROM contractors WHERE name LIKE 'Mzansi Aerial%'")[0]
    answer = ask(registry, db_settings, "contractor-agent", f"What is {name}' rating?")
    assert answer["data"][0]["name"] == name and rating in answer["response"]
    assert answer["tool_calls"][0]["arguments"] == {"name": name}


def test_truths_come_from_the_database(db_settings, sql_of):
    questions = [{"question": "q", "agent": "neon-database", "truth": "number", "sql": "SELECT count(*) FROM rfqs"}]
    assert compute_truths(db_settings, questions) == [[sql_of("SELECT count(*) FROM rfqs")[0][0]]]


# -- a project is not a place, a company is not a status -------------------------------------------

ON_PROJECT = (
    "SELECT DISTINCT c.name FROM project_contractors pc JOIN contractors c ON c.id = pc.contractor_id "
    "JOIN projects p ON p.id = pc.project_id WHERE p.area = 'Soweto'"
)


def test_contractors_on_a_project_are_not_the_contractors_based_in_its_town(registry, db_settings, sql_of):
    answer = ask(registry, db_settings, "contractor-agent", "Which contractors work on the Soweto project?")
    assert {row["name"] for row in answer["data"]} == {r[0] for r in sql_of(ON_PROJECT)}


def test_a_company_named_installations_asks_for_its_projects_not_installation_counts(registry, db_settings, sql_of):
    answer = ask(registry, db_settings, "project-agent", "What is Thuthuka Installations working on?")
    expected = sql_of(
        "SELECT p.code FROM projects p WHERE p.id IN (SELECT pc.project_id FROM project_contractors pc "
        "JOIN contractors c ON c.id = pc.contractor_id WHERE c.name = 'Thuthuka Installations') ORDER BY 1"
    )
    assert [row["code"] for row in answer["data"]] == [r[0] for r in expected]


def test_a_suppliers_materials(registry, db_settings, sql_of):
    answer = ask(registry, db_settings, "neon-database", "What materials does PoleCo supply?")
    expected = sql_of(
        "SELECT m.sku FROM materials m JOIN contractors c ON c.id = m.supplier_id WHERE c.name LIKE 'PoleCo%' ORDER BY 1"
    )
    assert [row["sku"] for row in answer["data"]] == [r[0] for r in expected]


@pytest.mark.parametrize(
    "agent, question, kind, name",
    [
        ("project-agent", "Progress in Sandton", "project", "Sandton"),
        ("neon-database", "Open RFQs for Sandton", "project", "Sandton"),
        ("neon-database", "How many POs from Acme Traders?", "supplier", "Acme Traders"),
        ("neon-database", "How much stock of fibre splice trays do we have?", "material", "fibre splice trays"),
        ("project-agent", "How far is site FF-GP-009-S01?", "site", "FF-GP-009-S01"),
    ],
)
def test_a_name_nothing_knows_is_not_found_never_everything(registry, db_settings, agent, question, kind, name):
    from skills.errors import NotFound

    with pytest.raises(NotFound) as missing:
        ask(registry, db_settings, agent, question)
    assert missing.value.details["kind"] == kind and missing.value.details["name"] == name
    assert missing.value.details["closest"]


def test_an_unknown_town_lists_no_contractors_rather_than_all(registry, db_settings):
    answer = ask(registry, db_settings, "contractor-agent", "Which contractors are in Sandton?")
    assert answer["data"] == [] and "no contractors in Sandton" in answer["response"]


def test_a_date_filter_the_tools_cannot_apply_needs_the_model(registry, db_settings):
    from skills.errors import ModelRequired

    with pytest.raises(ModelRequired, match="'in March'"):
        ask(registry, db_settings, "neon-database", "What did we order from Fibretech in March?")
