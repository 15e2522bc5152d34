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

# Measured on the demo database with the schema-driven interpreter (issue 23), rounded down:
# built_against 61/72 right (84.7%; 40 before the reading rules of 2026-12-07, 50 before the evening's
# totals, verbs and conditions), 11 refused, 0 wrong with success; fresh 32/35 right (91.4%; 23 before, 28
# before the evening), 3 refused, 0 wrong.
FLOORS = {"built_against": 0.84, "fresh": 0.91}  # "contractors" alone is refused as ambiguous since 2026-12-07

# Wrong with success true, known today; the count may only go down (none on 2026-12-07)
KNOWN_WRONG_WITH_SUCCESS: dict[str, set[str]] = {"built_against": set(), "fresh": set()}


@pytest.mark.parametrize("name", sorted(SETS))
def test_everyday_questions_are_answered_right_offline_and_never_about_another_thing(registry, db_settings, name):
    report = evaluate(registry, db_settings, read_questions(SETS[name]))
    about_else = {miss["id"] for miss in report["misses"] if miss["verdict"] == "wrong_thing"}
    assert about_else <= KNOWN_WRONG_WITH_SUCCESS[name], report["misses"]
    assert report["score"] >= FLOORS[name], report["misses"]
    assert report["right"] + report["refused"] + report["wrong_with_success"] == report["total"]


@pytest.mark.parametrize("name", sorted(SETS))
def test_no_new_question_is_answered_wrong_with_success(registry, db_settings, name):
    report = evaluate(registry, db_settings, read_questions(SETS[name]))
    wrong = {miss["id"] for miss in report["misses"] if miss["verdict"] in ("wrong", "wrong_thing")}
    assert len(wrong) == report["wrong_with_success"]
    assert wrong <= KNOWN_WRONG_WITH_SUCCESS[name], report["misses"]
    assert report["wrong_with_success"] <= len(KNOWN_WRONG_WITH_SUCCESS[name])


def test_evaluate_answers_prints_the_score(script, pg_url):
    run = script("evaluate_answers", "--format", "json", env={"DATABASE_URL": pg_url})
    assert run.returncode == 0, run.stdout
    report = run.json
    assert report["total"] == len(read_questions(SETS["built_against"]))
    assert report["right"] == report["verdicts"]["right"] and 0 <= report["score"] <= 1
    assert report["refused"] == sum(report["refused_by_code"].values())
    assert report["interpreter"]["questions"] > 0 and report["interpreter"]["mean_ms"] > 0
    table = script("evaluate_answers", SETS["fresh"], env={"DATABASE_URL": pg_url})
    assert table.stdout.startswith("answered right offline: ")
    assert "wrong with success: " in table.stdout and "ms per question" in table.stdout


def test_evaluate_answers_gates_on_a_minimum_score(script, pg_url, tmp_path):
    impossible = tmp_path / "impossible.yaml"
    impossible.write_text(
        "questions:\n"
        "  - {question: 'write a poem about trenching', agent: contractor-agent, truth: number,"
        " sql: 'SELECT 123456789'}\n"
    )
    run = script("evaluate_answers", str(impossible), "--min-score", "0.5", env={"DATABASE_URL": pg_url})
    assert run.returncode == 1 and "0.0%" in run.stdout and "refused: 1" in run.stdout


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
    refusal = {"success": False, "code": "model_required", "error": "not understood: moment"}
    assert judge(counted, [12], refusal) == "refused"
    assert judge(counted, [36800000.0], {"success": True, "response": "budget: 36800000.0."}) == "right"


# -- honest answers and refusals ------------------------------------------------------------------


def test_a_yes_no_question_gets_yes_or_no_first(registry, db_settings, sql_of):
    truth = sql_of("SELECT status = 'active' FROM contractors WHERE name LIKE 'Reef%'")[0][0]
    answer = ask(registry, db_settings, "contractor-agent", "Is Reef Directional Drilling active?")["response"]
    assert answer.startswith("Yes" if truth else "No"), answer


@pytest.mark.parametrize(
    "agent, question",
    [
        ("contractor-agent", "Delete all contractors"),
        ("contractor-agent", "Set Highveld Civils to active"),
        ("neon-database", "Cancel purchase order PO-2026-00012"),
    ],
)
def test_a_change_request_is_refused_read_only(registry, db_settings, sql_of, agent, question):
    from skills.errors import ReadOnly

    before = sql_of("SELECT count(*), count(*) FILTER (WHERE status = 'active') FROM contractors")
    with pytest.raises(ReadOnly) as refused:
        ask(registry, db_settings, agent, question)
    assert refused.value.code == "read_only"
    assert sql_of("SELECT count(*), count(*) FILTER (WHERE status = 'active') FROM contractors") == before


@pytest.mark.parametrize(
    "agent, question, word",
    [
        ("contractor-agent", "What's the phone number of Acme Fibre Holdings?", "acme"),
        ("project-agent", "What is the status of the Sandton project?", "sandton"),
    ],
)
def test_a_name_nothing_knows_is_refused_by_name_never_everything(registry, db_settings, agent, question, word):
    from skills.errors import OrchestratorError

    with pytest.raises(OrchestratorError) as refused:
        ask(registry, db_settings, agent, question)
    assert refused.value.code in ("model_required", "not_found")
    assert word in refused.value.details["words"]


def test_truths_come_from_the_database(db_settings, sql_of):
    questions = [{"question": "q", "agent": "neon-database", "truth": "number", "sql": "SELECT count(*) FROM rfqs"}]
    assert compute_truths(db_settings, questions) == [[sql_of("SELECT count(*) FROM rfqs")[0][0]]]
