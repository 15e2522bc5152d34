"""Check a question set's truth SQL against a live database, independently of any interpreter.

    .venv/bin/python tests/data/answers/check_truth.py tests/data/answers/demo.yaml "$URL"

Runs every truth_sql in a read-only transaction and checks that the rows fit the entry's
answer_shape (one integer for a count, one boolean for yes/no, one row for a record, a unique key
column for lists and tables), and that refusals and read-only requests carry no SQL. The demo data
and the "original" seed are laid out relative to the day they are loaded, so a set verified once
must be re-checked on another day: this script is how. Prints one JSON line per question and a
summary; exits 1 when any entry fails. It reads the sets only; it never imports the product.
"""

import json
import sys
from decimal import Decimal

import psycopg2
import yaml

SCALAR_SHAPES = ("count", "number", "value", "yes_no")
EXPECTS = ("refuse", "read_only")


def shape_problem(entry: dict, columns: list[str], rows: list[tuple]) -> str | None:
    """What is wrong with these rows for the entry's answer_shape, or None when they fit."""
    shape = entry.get("answer_shape")
    if shape in SCALAR_SHAPES:
        if len(columns) != 1 or len(rows) != 1:
            return f"{shape} needs one row of one column, got {len(rows)} rows of {len(columns)}"
        value = rows[0][0]
        if shape == "count" and not isinstance(value, int):
            return "count is not an integer"
        if shape == "yes_no" and not isinstance(value, bool):
            return "yes_no is not a boolean"
        if shape == "number" and value is not None and not isinstance(value, (int, float, Decimal)):
            return "number is not numeric"
        return None
    if shape not in ("record", "list", "table"):
        return f"unknown answer_shape {shape!r}"
    key = entry.get("key")
    if key not in columns:
        return f"key {key!r} is not a column of the result {columns}"
    if shape == "record" and len(rows) != 1:
        return f"record needs one row, got {len(rows)}"
    keys = [row[columns.index(key)] for row in rows]
    if not keys:
        return "no rows: a list question should have an answer on this data"
    if len(set(keys)) != len(keys):
        return f"key {key!r} repeats, so it cannot identify the rows"
    return None


def check_entry(cursor, entry: dict) -> dict:
    """One question's verdict: ok, the result's size and a short preview, or the problem."""
    verdict = {"id": entry.get("id"), "question": entry.get("question")}
    expect = entry.get("expect")
    if expect is not None:
        problem = None
        if expect not in EXPECTS:
            problem = f"expect must be one of {EXPECTS}"
        elif "truth_sql" in entry:
            problem = "a refusal carries no truth_sql"
        elif expect == "refuse" and not entry.get("why"):
            problem = "a refusal says why"
        return verdict | {"expect": expect, "ok": problem is None, "problem": problem}
    sql = entry.get("truth_sql", "")
    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return verdict | {"ok": False, "problem": "truth_sql must be one SELECT"}
    try:
        cursor.execute(sql)
        columns = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    except psycopg2.Error as error:
        cursor.connection.rollback()
        cursor.execute("SET TRANSACTION READ ONLY")
        return verdict | {"ok": False, "problem": str(error).strip()}
    problem = shape_problem(entry, columns, rows)
    preview = [[str(value) for value in row] for row in rows[:3]]
    return verdict | {
        "shape": entry.get("answer_shape"),
        "rows": len(rows),
        "preview": preview,
        "ok": problem is None,
        "problem": problem,
    }


def check_set(path: str, url: str) -> list[dict]:
    """Every entry of the set at path, checked against the database at url (read-only)."""
    with open(path) as handle:
        entries = yaml.safe_load(handle)["questions"]
    ids = [entry.get("id") for entry in entries]
    duplicates = sorted({entry_id for entry_id in ids if ids.count(entry_id) > 1})
    connection = psycopg2.connect(url)
    connection.set_session(readonly=True)
    try:
        with connection.cursor() as cursor:
            verdicts = [check_entry(cursor, entry) for entry in entries]
    finally:
        connection.rollback()
        connection.close()
    for verdict in verdicts:
        if verdict["id"] in duplicates:
            verdict.update(ok=False, problem="duplicate id")
    return verdicts


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(json.dumps({"error": {"code": "usage", "message": "usage: check_truth.py SET.yaml DATABASE_URL"}}))
        return 2
    verdicts = check_set(argv[0], argv[1])
    for verdict in verdicts:
        print(json.dumps(verdict, ensure_ascii=False))
    counts = {"answerable": sum("expect" not in v for v in verdicts)}
    counts |= {expect: sum(v.get("expect") == expect for v in verdicts) for expect in EXPECTS}
    failed = [v["id"] for v in verdicts if not v["ok"]]
    print(json.dumps({"summary": counts | {"questions": len(verdicts), "failed": failed}}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
