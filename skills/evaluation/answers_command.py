"""evaluate_answers [FILE.yaml]: how many everyday questions the agents answer right offline.

Scores a labelled set (default tests/data/everyday_questions.yaml) against truth computed from
the database by each question's SQL; see skills/evaluation/answers.py. Prints right, refused (by
code) and wrong with success (the count that must stay 0), and the interpreter's time per question
(question to SQL, the query aside). Needs the database the agents use (NEON_DATABASE_URL, or
`bin/demo_database start`).
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
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
