"""The answerer judged on question sets written apart from its code, from the data alone
(tests/data/answers/README.md): the demo database, and a second database of another shape with its
own lexicon. Each question goes through bin/evaluate_answers --set, as a user would ask it.

What is pinned: wrong with success only ever goes down (the known misses are named; a new one fails),
and right does not fall below what it is today. The figures are in docs/answers.md."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import yaml

from tests.fixtures.postgres import _admin_execute, database_url
from tests.fixtures.scripts import ROOT

SETS = Path(ROOT) / "tests" / "data" / "answers"
# Known wrong with success, each a disagreement to fix, not to hide (none on 2026-12-07)
KNOWN_WRONG: set[str] = set()


def judged(script, question_set: Path, truth_url: str, env: dict) -> dict:
    refreshed = script("refresh_entities", env=env, timeout=120)
    assert refreshed.returncode == 0, refreshed.stdout
    run = script(
        "evaluate_answers", "--set", str(question_set), "--truth-url", truth_url, "--format", "json",
        env=env, timeout=600,
    )  # fmt: skip
    assert run.returncode in (0, 1), run.stdout[-2000:]
    return json.loads(run.stdout)


def check(report: dict, floor_right: int) -> None:
    wrong = {miss["id"] for miss in report["misses"] if miss["outcome"] == "wrong"}
    assert wrong <= KNOWN_WRONG, [miss for miss in report["misses"] if miss["id"] in wrong - KNOWN_WRONG]
    assert report["wrong_with_success"] == len(wrong)
    assert report["right"] >= floor_right, report["by_expectation"]
    assert report["right"] + report["refused"] + report["wrong_with_success"] == report["questions"]
    assert report["interpreter"]["questions"] > 0 and report["interpreter"]["mean_ms"] > 0  # its own time, printed


def test_the_demo_set(script, pg_url):
    report = judged(script, SETS / "demo.yaml", pg_url, {"DATABASE_URL": pg_url})
    assert report["questions"] == 110
    check(report, floor_right=103)  # 105 on 2026-12-07 (81 before): 75/80 answerable, 15/15 refusals, 15/15 changes


def test_the_held_out_demo_set(script, pg_url):
    """Written after the interpreter, by a helper that read neither it nor the other sets; only its
    wrong answers were looked at (to find what was unsound), never its refusals."""
    report = judged(script, SETS / "demo_holdout.yaml", pg_url, {"DATABASE_URL": pg_url})
    assert report["questions"] == 60
    check(report, floor_right=44)  # 46 on 2026-12-07, evening (32 with the code it was written against)


def test_the_second_held_out_demo_set(script, pg_url):
    """Written on 2026-12-07 after that day's rules, by a helper that read neither the interpreter nor the
    other sets. First run: 33 right, 15 refused, 2 wrong with success ("What's the Soweto project worth?"
    read "worth" as filler; "the 3 biggest RFQs issued this year" ordered by the date): both mended by
    general rules. Only its wrong answers were looked at, never its refusals."""
    report = judged(script, SETS / "demo_holdout2.yaml", pg_url, {"DATABASE_URL": pg_url})
    assert report["questions"] == 50
    check(report, floor_right=36)  # 38 on 2026-12-08


def test_the_third_held_out_demo_set(script, pg_url):
    """Written on the evening of 2026-12-07 by a helper that read neither the interpreter, the lexicons nor
    the other sets. First run: 30 right, 16 refused, 4 wrong with success (the code before it: 29/17/4):
    a window's date hinted by the table's own word ("installs" -> installed_on), a PO total beside a
    nested superlative read through the RFQ's value, "B-BBEE level 1" summing the level, "haven't been
    delivered" read only as the status. All mended by general rules; only its wrong answers were looked
    at, never its refusals."""
    report = judged(script, SETS / "demo_holdout3.yaml", pg_url, {"DATABASE_URL": pg_url})
    assert report["questions"] == 50
    check(report, floor_right=33)  # 35 on 2026-12-07


def test_the_fourth_demo_set_a_development_one(script, pg_url):
    """Written on the evening of 2026-12-07 by a helper that read neither the interpreter nor the
    lexicons, for development: all its outcomes were looked at. First run: 37 right, 20 refused, 3 wrong
    with success ('who has been awarded the most RFQs' read as the biggest RFQ, 'stock issues' summed,
    'trench sites running late' read through the projects' lateness), mended by general rules."""
    report = judged(script, SETS / "demo_dev4.yaml", pg_url, {"DATABASE_URL": pg_url})
    assert report["questions"] == 60
    check(report, floor_right=44)  # 46 on 2026-12-08


def test_the_fourth_held_out_demo_set(script, pg_url):
    """Written in the night of 2026-12-07 by a helper that read neither the interpreter, the lexicons nor
    the other sets. First run: 32 right, 15 refused, 3 wrong with success ('started since January' took
    planned starts, 'which installer has the most failed installations' took the specialty, 'has Durban
    done' read 'done' as filler). Mended by general rules; only its wrong answers were looked at."""
    report = judged(script, SETS / "demo_holdout4.yaml", pg_url, {"DATABASE_URL": pg_url})
    assert report["questions"] == 50
    check(report, floor_right=34)  # 36 on 2026-12-08


def test_the_fifth_demo_set_a_development_one(script, pg_url):
    """Written in the night of 2026-12-07 from the data alone, for development: all its outcomes were
    looked at. First run: 33 right, 23 refused, 4 wrong with success (the PM of the project with the most
    blocked sites dropped, 'are done' as filler, 'does Kagiso Sithole run' as active, the installer)."""
    report = judged(script, SETS / "demo_dev5.yaml", pg_url, {"DATABASE_URL": pg_url})
    assert report["questions"] == 60
    check(report, floor_right=38)  # 40 on 2026-12-08


@pytest.fixture
def original_url(pg_target, pg_url):
    """tests/data/answers/original/ loaded into its own database, readable by the demo's reader role."""
    name = "original_" + uuid.uuid4().hex[:10]
    reader = urlsplit(pg_url).username
    _admin_execute(pg_target.admin_url, f'CREATE DATABASE "{name}"')
    connection = psycopg2.connect(database_url(pg_target.admin_url, name))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute((SETS / "original" / "schema.sql").read_text())
        cursor.execute((SETS / "original" / "seed.sql").read_text())
        cursor.execute(
            f'GRANT USAGE ON SCHEMA public TO "{reader}"; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{reader}"'
        )
    connection.close()
    yield urlunsplit(urlsplit(pg_url)._replace(path="/" + name))
    _admin_execute(pg_target.admin_url, f'DROP DATABASE "{name}" WITH (FORCE)')


def test_the_second_database_declared_in_yaml_alone(script, tmp_path, original_url):
    (tmp_path / "lexicon").mkdir()
    shutil.copy(SETS / "original" / "lexicon.yaml", tmp_path / "lexicon" / "original.yaml")
    agent = {
        "id": "fibre-data",
        "name": "FibreFlow Data Agent",
        "category": "data_management",
        "description": "Contractors, projects, staff, poles, drops and invoices, from the database.",
        "status": "active",
        "model": "claude-haiku-4-5",
        "cost_per_query": 0.001,
        "triggers": ["contractor", "contractors", "project", "projects", "staff", "poles", "drops", "invoices"],
        "examples": ["how many contractors are active", "list the projects"],
        "requires": ["database"],
        "data": {"url_env": "ORIGINAL_URL", "lexicon": "lexicon/original.yaml"},
    }
    (tmp_path / "agents.yaml").write_text(yaml.safe_dump({"agents": [agent]}))
    env = {"ORCHESTRATOR_REGISTRY": str(tmp_path / "agents.yaml"), "ORIGINAL_URL": original_url}
    report = judged(script, SETS / "original.yaml", original_url, env)
    assert report["questions"] == 50
    check(report, floor_right=42)  # 44 on 2026-12-07, evening (38 before): 28/34 answerable, 8/8 refusals, 8/8 changes
    held_out = judged(script, SETS / "original_holdout.yaml", original_url, env)
    assert held_out["questions"] == 30
    check(held_out, floor_right=25)  # 27 on 2026-12-07 (19 with the code it was written against): 19/22, 4/4, 4/4


def test_an_unreachable_truth_database_is_a_clear_error_without_its_password(script):
    run = script(
        "evaluate_answers",
        "--set",
        str(SETS / "demo.yaml"),
        "--truth-url",
        "postgresql://judge:s3cret-pw@127.0.0.1:1/x",
    )
    assert run.returncode == 3, run.stdout
    assert run.json["code"] == "upstream_unavailable" and run.json["field"] == "truth_url"
    assert "s3cret-pw" not in run.stdout + run.stderr


def test_the_judge_takes_a_per_table_listing_zeros_for_the_rows_the_truth_leaves_out():
    """ "Total invoice amount per contractor" that lists the contractors with no invoices as 0 says what
    a truth without them says; a listed row with a measure, or a missing one, is still wrong."""
    from skills.evaluation.question_sets import verdict

    question = {"answer_shape": "table", "key": "name", "truth_sql": "-"}
    truth = lambda sql: (["name", "amount"], [("Acme", 10.0), ("Bolt", 5.0)])
    answer = lambda *rows: {"success": True, "data": [dict(zip(("name", "amount"), row, strict=True)) for row in rows]}
    assert verdict(question, answer(("Acme", 10.0), ("Bolt", 5.0), ("Cog", 0), ("Dyn", None)), 0, truth)[0] == "right"
    assert verdict(question, answer(("Acme", 10.0), ("Bolt", 5.0), ("Cog", 3.0)), 0, truth)[0] == "wrong"
    assert verdict(question, answer(("Acme", 10.0), ("Cog", 0)), 0, truth)[0] == "wrong"
