"""How well do the agents answer everyday questions offline? A labelled set, scored against SQL truth.

The set (tests/data/everyday_questions.yaml) gives each question its agent and the kind of truth a
right answer holds; the truth itself is computed from the database at evaluation time by the
question's `sql`, never written down. Each answer gets one verdict:

- right: the answer states the truth (or refuses a thing that does not exist, naming it);
- refused: any other answer that is not a success (model_required, ambiguous, not_found,
  read_only...): honest, if not helpful; `refused_by_code` counts them by their code;
- wrong: success true but not the truth (a wrong figure, a missing name): the answerer believed it;
- wrong_thing: success true about something other than what was named, or for a thing that does
  not exist: the worst outcome, counted on its own.

`wrong_with_success` (wrong + wrong_thing) is the count the answerer promises to keep at 0: a
refusal costs the user a retry, a wrong answer given as right costs their trust.

Evaluation runs on the offline path with a throw-away state directory, so it leaves no runs in
the user's ledger. For a data agent it also times the interpreter alone (question to SQL, the
query itself aside) on the schema the answer was read against.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import time

from skills.errors import BadInput, OrchestratorError

TRUTHS = ("number", "money", "text", "values", "yes_no", "not_found", "local", "local_yes_no")
SHOWN_IN_FULL = 8  # a longer list may be summarised: its count and at least MIN_NAMED of its values
MIN_NAMED = 5
LOCAL_CHECKS = {
    "root_disk_at_least_90_percent": lambda: _root_disk_used_percent() >= 90.0,
    "memory_at_least_90_percent": lambda: _memory_used_percent() >= 90.0,
}


def _root_disk_used_percent() -> float:
    usage = shutil.disk_usage("/")
    return 100.0 * usage.used / (usage.used + usage.free) if usage.used + usage.free else 0.0


def _memory_used_percent() -> float:
    """As `free` counts it: everything but MemAvailable, from /proc/meminfo (Linux)."""
    fields = {}
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            name, _, rest = line.partition(":")
            fields[name] = int(rest.split()[0])
    return 100.0 * (fields["MemTotal"] - fields["MemAvailable"]) / fields["MemTotal"]


# -- the labelled set ------------------------------------------------------------------------------


def read_questions(path: str) -> list[dict]:
    """The questions of a labelled set; a malformed entry is an error naming its position."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror}", field="file") from None
    except yaml.YAMLError as error:
        raise BadInput(f"{path} is not valid YAML: {error}", field="file") from None
    questions = document.get("questions") if isinstance(document, dict) else None
    if not isinstance(questions, list) or not questions:
        raise BadInput(f"{path} needs a non-empty 'questions:' list", field="file")
    for number, question in enumerate(questions, 1):
        _check_question(path, number, question)
    return questions


def _check_question(path: str, number: int, question) -> None:
    where = f"{path} question {number}"
    if not isinstance(question, dict) or not isinstance(question.get("question"), str):
        raise BadInput(f"{where} needs a 'question' text", field="file")
    if not isinstance(question.get("agent"), str):
        raise BadInput(f"{where} needs an 'agent'", field="file")
    truth = question.get("truth")
    if truth not in TRUTHS:
        raise BadInput(f"{where}: truth must be one of {', '.join(TRUTHS)}; got {truth!r}", field="file")
    needs = {"not_found": "name", "local": "tool", "local_yes_no": "check"}.get(truth, "sql")
    if not question.get(needs):
        raise BadInput(f"{where} ({truth}) needs '{needs}'", field="file")
    if truth == "local_yes_no" and question["check"] not in LOCAL_CHECKS:
        raise BadInput(f"{where}: unknown check {question['check']!r}", field="file")


# -- the truth -------------------------------------------------------------------------------------


def compute_truths(settings, questions: list[dict]) -> list:
    """Each question's truth: the rows of its SQL (one read-only session), or a local check's value."""
    from skills.backends.database import ReadOnlySession

    truths: list = [None] * len(questions)
    with ReadOnlySession(settings) as db:
        for position, question in enumerate(questions):
            if question.get("sql"):
                truths[position] = [next(iter(row.values())) for row in db.query(question["sql"], cap=10_000).rows]
    for position, question in enumerate(questions):
        if question["truth"] == "local_yes_no":
            truths[position] = [LOCAL_CHECKS[question["check"]]()]
    return truths


# -- judging one answer ----------------------------------------------------------------------------


def _number_pattern(value: float) -> re.Pattern:
    """The ways an answer may write `value`: 1,182 / 1182 / 1182.00 / 1182.0 (a float as the database gives it)."""
    whole = round(value)
    renderings = (
        {str(whole), f"{whole:,}", f"{value:,.2f}", f"{value:.2f}", f"{whole}.0"}
        if value == whole
        else {f"{value:,.2f}", f"{value:.2f}", f"{value:g}"}
    )
    alternatives = "|".join(re.escape(r) for r in sorted(renderings, key=len, reverse=True))
    return re.compile(rf"(?<![\d.,])(?:{alternatives})(?![\d]|[.,]\d)")


def _rand_short(value: float) -> str:
    """The way reports round rand: R 38.5m, R 915k (the project agent's style)."""
    if value >= 1_000_000:
        return f"R {value / 1_000_000:.1f}m"
    if value >= 10_000:
        return f"R {value / 1000:.0f}k"
    return f"R {value:,.0f}"


def _states_number(text: str, value) -> bool:
    return bool(_number_pattern(float(value)).search(text))


def _states_money(text: str, value) -> bool:
    value = float(value)
    return _states_number(text, value) or _rand_short(value) in text


def _names(text: str, value) -> bool:
    return str(value).lower() in text.lower()


def _says_none(text: str) -> bool:
    return bool(re.match(r"\s*no\b", text, re.IGNORECASE) or re.search(r"\b(none|0 )", text, re.IGNORECASE))


def _yes_no(text: str) -> bool | None:
    match = re.match(r"\W*(yes|no)\b", text, re.IGNORECASE)
    return None if match is None else match.group(1).lower() == "yes"


def _states_values(text: str, values: list) -> bool:
    if not values:
        return _says_none(text)
    named = sum(_names(text, v) for v in values)
    if len(values) <= SHOWN_IN_FULL:
        return named == len(values)
    return named >= MIN_NAMED and _states_number(text, len(values))


def _about_local(question: dict, answer: dict) -> bool:
    calls = [call["name"] for call in answer.get("tool_calls", [])]
    data = answer.get("data") or {}
    servers = (
        {data.get("server")} if "server" in data else {v.get("server") for v in data.values() if isinstance(v, dict)}
    )
    return question["tool"] in calls and servers == {"localhost"}


def judge(question: dict, truth, answer: dict) -> str:
    """right, refused, wrong or wrong_thing for one answer (the execute JSON or its error JSON)."""
    kind = question["truth"]
    if not answer.get("success"):
        if (
            kind == "not_found"
            and answer.get("code") == "not_found"
            and _names(answer.get("error", ""), question["name"])
        ):
            return "right"
        return "refused"
    text = answer.get("response") or ""
    if kind == "not_found" or (question.get("about") and not _names(text, question["about"])):
        return "wrong_thing"
    checks = {
        "number": lambda: len(truth) == 1 and _states_number(text, truth[0]),
        "money": lambda: len(truth) == 1 and truth[0] is not None and _states_money(text, truth[0]),
        "text": lambda: len(truth) == 1 and _names(text, truth[0]),
        "values": lambda: _states_values(text, truth),
        "yes_no": lambda: len(truth) == 1 and _yes_no(text) == bool(truth[0]),
        "local": lambda: _about_local(question, answer),
        "local_yes_no": lambda: _about_local(question, answer) and _yes_no(text) == bool(truth[0]),
    }
    return "right" if checks[kind]() else "wrong"


def question_id(number: int, question: dict) -> str:
    """How a report names a question: its `id` when the set gives one, else its position (1-based)."""
    return str(question.get("id") or f"q{number}")


# -- the whole set ---------------------------------------------------------------------------------


def _answer(registry: dict, settings, question: dict, route: bool) -> dict:
    from skills.execution.execute import execute
    from skills.execution.smart import smart_execute

    try:
        if route:
            result, _ = smart_execute(registry, settings, question["question"], None, True, llm_fallback=False)
            if result.get("success") and result["agent"] != question["agent"]:
                return {"success": False, "code": "routed_elsewhere", "error": f"routed to {result['agent']}"}
            return result
        return execute(registry, settings, question["agent"], question["question"], direct=True)
    except OrchestratorError as error:
        return {"success": False, **error.to_json()}


def isolated_settings(settings):
    """The same settings with a throw-away state directory (no ledger rows) and the database pinned."""
    from skills.config import Settings

    env = dict(settings.env)
    url = settings.effective_database_url()
    if url:
        env["NEON_DATABASE_URL"] = url
    env["ORCHESTRATOR_STATE_DIR"] = tempfile.mkdtemp(prefix="evaluate-answers-")
    return Settings(env)


def _interpreter_ms(registry: dict, settings, question: dict) -> float | None:
    """Milliseconds the interpreter takes to read the question (no SQL run); None for an agent without `data:`."""
    from skills.answers.interpreter import interpret
    from skills.execution.data import reading_inputs
    from skills.registry.loader import find_agent

    try:
        agent = find_agent(registry, question["agent"])
        if not agent.get("data"):
            return None
        schema, lexicon, kept = reading_inputs(settings.for_data(agent["data"]), agent, None)
        start = time.perf_counter()
        interpret(question["question"], schema, lexicon, today=dt.date.today(), vocabulary_dir=kept)
        return (time.perf_counter() - start) * 1000.0
    except OrchestratorError:
        return None


def _timing(samples: list[float]) -> dict:
    if not samples:
        return {"questions": 0, "mean_ms": None, "max_ms": None}
    return {
        "questions": len(samples),
        "mean_ms": round(sum(samples) / len(samples), 2),
        "max_ms": round(max(samples), 2),
    }


def evaluate(registry: dict, settings, questions: list[dict], *, route: bool = False) -> dict:
    """Score every question; `route`: route each question first, as smart execute does."""
    quiet = isolated_settings(settings)
    try:
        truths = compute_truths(quiet, questions)
        verdicts = {"right": 0, "refused": 0, "wrong": 0, "wrong_thing": 0}
        refused_by_code: dict[str, int] = {}
        misses, samples = [], []
        for number, (question, truth) in enumerate(zip(questions, truths, strict=True), 1):
            answer = _answer(registry, quiet, question, route)
            verdict = judge(question, truth, answer)
            verdicts[verdict] += 1
            if verdict == "refused":
                code = str(answer.get("code"))
                refused_by_code[code] = refused_by_code.get(code, 0) + 1
            if verdict != "right":
                misses.append(_miss(question_id(number, question), question, truth, answer, verdict))
            took = _interpreter_ms(registry, quiet, question)
            if took is not None:
                samples.append(took)
    finally:
        shutil.rmtree(quiet.state_dir, ignore_errors=True)
    return {
        "total": len(questions),
        "right": verdicts["right"],
        "refused": verdicts["refused"],
        "wrong_with_success": verdicts["wrong"] + verdicts["wrong_thing"],
        "score": round(verdicts["right"] / len(questions), 4),
        "verdicts": verdicts,
        "refused_by_code": refused_by_code,
        "interpreter": _timing(samples),
        "routed": route,
        "misses": misses,
    }


def _miss(ident: str, question: dict, truth, answer: dict, verdict: str) -> dict:
    said = answer.get("response") if answer.get("success") else f"{answer.get('code')}: {answer.get('error')}"
    expected = question.get("name") or question.get("tool") if truth is None else truth[:SHOWN_IN_FULL]
    return {
        "id": ident,
        "question": question["question"],
        "agent": question["agent"],
        "code": None if answer.get("success") else answer.get("code"),
        "verdict": verdict,
        "truth": question["truth"],
        "expected": expected,
        "answer": (said or "")[:400],
        "tools": [call["name"] for call in answer.get("tool_calls", [])],
    }


def as_table(report: dict) -> str:
    v, timing = report["verdicts"], report["interpreter"]
    took = (
        f"interpreter: {timing['mean_ms']:.2f} ms per question (max {timing['max_ms']:.2f} ms, "
        f"{timing['questions']} questions, the query aside)"
        if timing["questions"]
        else "interpreter: not timed (no data agent asked)"
    )
    refused = ", ".join(f"{code} {count}" for code, count in sorted(report["refused_by_code"].items()))
    lines = [
        f"answered right offline: {report['score']:.1%} ({report['right']}/{report['total']})"
        + (" (routed first)" if report["routed"] else ""),
        f"right: {report['right']}   refused: {report['refused']}"
        + (f" ({refused})" if refused else "")
        + f"   wrong with success: {report['wrong_with_success']} (about another thing: {v['wrong_thing']})",
        took,
    ]
    if report["misses"]:
        lines += ["", "misses:"]
        for miss in report["misses"]:
            verdict = miss["verdict"] + (f": {miss['code']}" if miss["code"] else "")
            lines.append(f"  {miss['id']} [{verdict}] {miss['question']!r} ({miss['agent']}, {miss['truth']})")
            lines.append(f"      expected {miss['expected']!r}")
            lines.append(f"      answered {miss['answer']!r}")
    return "\n".join(lines)


def default_questions_file(settings) -> str:
    return os.path.join(settings.project_root, "tests", "data", "everyday_questions.yaml")
