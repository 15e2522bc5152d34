"""evaluate_answers [FILE.yaml]: how many everyday questions the agents answer right offline.

Scores a labelled set (default tests/data/everyday_questions.yaml) against truth computed from
the database by each question's SQL; see skills/evaluation/answers.py. Prints right, refused (by
code) and wrong with success (the count that must stay 0), and the interpreter's time per question
(question to SQL, the query aside). Needs the database the agents use (NEON_DATABASE_URL, or
`bin/demo_database start`).

`--set FILE` judges a question set written apart from the code (tests/data/answers/*.yaml: each
question asked through smart execute, judged right / honestly refused / wrong with success against
its truth_sql run on `--truth-url`, default the database the agents use); see
skills/evaluation/question_sets.py.
"""

from __future__ import annotations

import argparse
import sys

from skills.config import load_settings
from skills.errors import OrchestratorError
from skills.evaluation.answers import as_table, default_questions_file, evaluate, read_questions
from skills.jsonout import dumps
from skills.registry.loader import load_registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="evaluate_answers", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", help="the labelled questions (YAML); default: the everyday set")
    parser.add_argument("--format", choices=("json", "table"), default="table")
    parser.add_argument("--pretty", action="store_true", help="indent the JSON output")
    parser.add_argument("--route", action="store_true", help="route each question first, as smart execute does")
    parser.add_argument("--min-score", type=float, default=None, help="exit 1 when the score is below this (0..1)")
    parser.add_argument("--set", dest="question_set", help="a question set written apart (tests/data/answers/*.yaml)")
    parser.add_argument("--truth-url", help="the database the set's truth_sql runs on (default: the agents')")
    args = parser.parse_args(argv)
    if args.question_set:
        return _judge_set(args)
    try:
        settings = load_settings()
        questions = read_questions(args.file or default_questions_file(settings))
        registry = load_registry(settings.registry_path, settings.state_dir)
        report = evaluate(registry, settings, questions, route=args.route)
    except OrchestratorError as error:
        print(dumps(error.to_json()))
        return error.exit_status
    print(as_table(report) if args.format == "table" else dumps(report, args.pretty))
    if args.min_score is not None and report["score"] < args.min_score:
        return 1
    return 0


def _judge_set(args) -> int:
    import psycopg2
    import yaml

    from skills.evaluation.question_sets import judge
    from skills.execution.smart import smart_execute

    try:
        settings = load_settings()
        with open(args.question_set, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        registry = load_registry(settings.registry_path, settings.state_dir)
        url = args.truth_url or settings.effective_database_url()
    except (OSError, yaml.YAMLError) as error:
        print(dumps({"error": f"cannot read {args.question_set}: {error}", "code": "bad_input", "field": "set"}))
        return 2
    except OrchestratorError as error:
        print(dumps(error.to_json()))
        return error.exit_status
    try:
        connection = psycopg2.connect(url, connect_timeout=10)
    except psycopg2.Error as error:
        from skills.errors import UpstreamUnavailable
        from skills.redaction import mask_urls

        failure = UpstreamUnavailable(
            f"cannot reach the database the set's truth runs on: {mask_urls(str(error).strip())}", field="truth_url"
        )
        print(dumps(failure.to_json()))
        return failure.exit_status
    connection.set_session(readonly=True, autocommit=True)

    def truth(sql: str):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return [column.name for column in cursor.description], cursor.fetchall()

    from skills.evaluation.answers import _interpreter_ms, _timing

    reading_ms: list[float] = []

    def ask(text: str):
        answer = smart_execute(registry, settings, text, None, True, llm_fallback=False)
        agent = answer[0].get("agent") if isinstance(answer, tuple) else None
        if isinstance(agent, str):  # the interpreter's own time on the agent that answered, no query
            ms = _interpreter_ms(registry, settings, {"agent": agent, "question": text})
            if ms is not None:
                reading_ms.append(ms)
        return answer

    try:
        report = {"set": args.question_set, **judge(document["questions"], ask, truth)}
        report["interpreter"] = _timing(reading_ms)
    finally:
        connection.close()
    if args.format == "table":
        print(
            f"{args.question_set}: {report['questions']} questions: right {report['right']}, "
            f"refused {report['refused']}, wrong with success {report['wrong_with_success']}; "
            f"{report['median_ms_per_question']} ms a question (median, the query included); the interpreter "
            f"{report['interpreter']['mean_ms']} ms mean, {report['interpreter']['max_ms']} ms max"
        )
        for name, count in report["by_expectation"].items():
            print(f"  {name}: {count}")
        for miss in report["misses"]:
            print(f"  {miss['outcome']:8} {miss['id']}: {miss['question']}  [{miss['why']}]")
    else:
        print(dumps(report, args.pretty))
    return 1 if report["wrong_with_success"] else 0


if __name__ == "__main__":
    sys.exit(main())
