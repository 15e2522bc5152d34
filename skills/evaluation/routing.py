"""How good is the router on a labelled set? Accuracy, no-match precision/recall, confusion."""

from __future__ import annotations

from skills.errors import BadInput
from skills.routing import route

NO_AGENT = "(none)"


def read_labelled(path: str) -> list[dict]:
    """Lines of {"task": ..., "agent": id-or-null}; a bad line is an error naming its number."""
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror}", field="file") from None
    cases = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except ValueError as error:
            raise BadInput(f"{path} line {number} is not valid JSON: {error}", field="file") from None
        if not isinstance(case, dict) or not isinstance(case.get("task"), str) or "agent" not in case:
            raise BadInput(f'{path} line {number} needs {{"task": str, "agent": id or null}}', field="file")
        cases.append(case)
    if not cases:
        raise BadInput(f"{path} has no labelled tasks", field="file")
    return cases


def feedback_cases(settings) -> list[dict]:
    """The recorded verdicts as labelled tasks: for each task, the verdict that counts (confirmed or not)."""
    from skills.ledger.corrections import verdicts
    from skills.ledger.records import feedback

    counted = verdicts(feedback(settings), settings.feedback_confirmations)
    if not counted:
        raise BadInput("no routing feedback is recorded yet: record some with bin/route_feedback", field="feedback")
    return [
        {"task": verdict.task, "agent": verdict.correct_agent, "confirmed": verdict.confirmed}
        for _key, verdict in sorted(counted.items())
    ]


def predicted_agent(result: dict) -> str | None:
    """The agent routing would hand the task to with auto-select; None for no_match."""
    return result["agent"]["agent_id"] if result.get("agent") else None


def evaluate(registry: dict, cases: list[dict]) -> dict:
    confusion: dict[str, dict[str, int]] = {}
    misrouted = []
    correct = 0
    true_none = predicted_none = both_none = 0
    for case in cases:
        result = route(registry, case["task"], auto_select=True)
        expected, got = case["agent"], predicted_agent(result)
        row = confusion.setdefault(expected or NO_AGENT, {})
        row[got or NO_AGENT] = row.get(got or NO_AGENT, 0) + 1
        true_none += expected is None
        predicted_none += got is None
        both_none += expected is None and got is None
        if expected == got:
            correct += 1
        else:
            misrouted.append({"task": case["task"], "expected": expected, "got": got, "status": result["status"]})
    return {
        "total": len(cases),
        "correct": correct,
        "accuracy": round(correct / len(cases), 4),
        "no_match_precision": round(both_none / predicted_none, 4) if predicted_none else None,
        "no_match_recall": round(both_none / true_none, 4) if true_none else None,
        "confusion": confusion,
        "misrouted": misrouted,
    }


def as_table(report: dict) -> str:
    """The report for people: every agent name in full, columns as wide as the longest name."""
    labels = sorted({*report["confusion"], *(g for row in report["confusion"].values() for g in row)})
    first = max(len(label) for label in [*labels, "expected \\ got"]) + 2
    column = max(len(label) for label in labels) + 2
    lines = [
        f"accuracy {report['accuracy']:.1%} ({report['correct']}/{report['total']})",
        f"no_match precision {report['no_match_precision']}  recall {report['no_match_recall']}",
        "",
        "expected \\ got".ljust(first) + "".join(label.rjust(column) for label in labels),
    ]
    for expected in labels:
        row = report["confusion"].get(expected, {})
        lines.append(expected.ljust(first) + "".join(str(row.get(got, 0)).rjust(column) for got in labels))
    if report["misrouted"]:
        lines += ["", "misrouted:"]
        for miss in report["misrouted"]:
            lines.append(f"  {miss['task']!r}: expected {miss['expected']}, got {miss['got']} ({miss['status']})")
    return "\n".join(lines)
