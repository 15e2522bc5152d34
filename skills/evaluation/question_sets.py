"""Judging the answerer on question sets written apart from it (tests/data/answers/*.yaml).

Each question is asked as a user would (smart execute: routed, then answered offline), and its
outcome is one of three:
- right: the answer holds the truth its `truth_sql` computes (a count or number equal, a list's
  key values the same set, a record or value present, a yes/no question answered Yes or No first
  as the truth says), or the expected refusal (`refuse`: any refusal; `read_only`: code read_only);
- refused: an honest refusal where an answer was due (model_required, ambiguous, not_found...);
- wrong: `success` with something else than the truth — the count that must stay 0.
The truth is computed from the database at judging time, never written down.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import statistics
import time

from skills.errors import OrchestratorError


def _plain(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()[:10]
    if isinstance(value, str):
        return value.strip().lower()
    return value


def _same_number(a, b) -> bool:
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return abs(a - b) <= max(0.01, 0.005 * abs(b))


def _rows(result: dict) -> list:
    data = result.get("data")
    rows = data if isinstance(data, list) else (data.get("rows") if isinstance(data, dict) else None)
    return [row for row in rows or [] if isinstance(row, dict)]


def _says_zero(row: dict, key: str) -> bool:
    """Whether a row's measures, every number beside its key, are 0 or none (and it has one)."""
    measures = [
        value
        for column, value in row.items()
        if column != key and (value is None or isinstance(value, int | float | decimal.Decimal))
    ]
    return bool(measures) and all(not value for value in measures)


def verdict(question: dict, result: dict, status: int, truth) -> tuple[str, str]:
    """(right | refused | wrong, why) for one answer; `truth(sql) -> (columns, rows)`."""
    answered = status == 0 and result.get("success", True) is not False and "error" not in result
    code = result.get("code") or ""
    expected = question.get("expect")
    if expected == "read_only":
        return ("right" if code == "read_only" else "refused" if not answered else "wrong"), code
    if expected == "refuse":
        return ("right" if not answered else "wrong"), code or "answered"
    if not answered:
        return "refused", code
    columns, truth_rows = truth(question["truth_sql"])
    rows = _rows(result)
    values = [_plain(value) for row in rows for value in row.values()]
    shape = question["answer_shape"]
    if shape in ("count", "number"):
        expected_value = truth_rows[0][0] if truth_rows else None
        if expected_value is None:
            return ("right" if not values else "wrong"), "the truth is empty"
        found = len(rows) == 1 and any(_same_number(v, expected_value) for v in values if isinstance(v, int | float))
        return ("right", "") if found else ("wrong", f"truth {expected_value}, answer {values[:6]}")
    if shape == "yes_no":
        expected_yes = bool(truth_rows and truth_rows[0][0])
        said = str(result.get("response", "")).strip().lower()
        right = said.startswith("yes") if expected_yes else said.startswith("no")
        return ("right", "") if right else ("wrong", f"truth {'yes' if expected_yes else 'no'}, said {said[:60]!r}")
    key = question.get("key")
    at = columns.index(key) if key in columns else 0
    expected_keys = {_plain(row[at]) for row in truth_rows}
    if shape == "value":
        wanted = {_plain(value) for row in truth_rows for value in row}
        found = any(
            v in wanted or any(_same_number(v, w) for w in wanted if isinstance(w, int | float)) for v in values
        )
        if found and len(rows) <= len(truth_rows):
            return "right", ""
        return "wrong", f"truth {sorted(map(str, wanted))[:4]}, answer {values[:6]}"
    got = {_plain(row.get(key)) for row in rows} if key else set(values)
    if shape == "record":
        if expected_keys and expected_keys <= got and len(rows) == len(truth_rows):
            return "right", ""
        return "wrong", f"truth {sorted(map(str, expected_keys))[:4]}, answer {len(rows)} rows"
    if shape == "table" and key:
        # "total per contractor" that also lists the contractors with none (0) says the same as a truth
        # that leaves them out
        got -= {
            _plain(row.get(key)) for row in rows if _plain(row.get(key)) not in expected_keys and _says_zero(row, key)
        }
    if got == expected_keys:
        return "right", ""
    return "wrong", f"truth {len(expected_keys)} rows {sorted(map(str, expected_keys))[:3]}, answer {len(rows)} rows"


def judge(questions: list[dict], ask, truth) -> dict:
    """Ask each question (`ask(text) -> (result, status)`), judge it, count; the slow and wrong named."""
    counts: collections.Counter = collections.Counter()
    by_expectation: collections.Counter = collections.Counter()
    misses, times = [], []
    for question in questions:
        started = time.perf_counter()
        try:
            result, status = ask(question["question"])
        except OrchestratorError as error:
            result, status = error.to_json(), error.exit_status
        times.append((time.perf_counter() - started) * 1000)
        outcome, why = verdict(question, result, status, truth)
        counts[outcome] += 1
        by_expectation[f"{question.get('expect', 'answer')}: {outcome}"] += 1
        if outcome != "right":
            misses.append({"id": question["id"], "outcome": outcome, "why": why, "question": question["question"]})
    return {
        "questions": len(questions),
        "right": counts["right"],
        "refused": counts["refused"],
        "wrong_with_success": counts["wrong"],
        "by_expectation": dict(sorted(by_expectation.items())),
        "median_ms_per_question": round(statistics.median(times), 1) if times else None,
        "misses": misses,
    }
