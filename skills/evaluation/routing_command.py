"""evaluate_routing FILE.jsonl | --feedback: the router's accuracy on labelled tasks, or on the recorded corrections."""

from __future__ import annotations

import argparse
import sys

from skills.config import load_settings
from skills.errors import BadInput, OrchestratorError
from skills.evaluation.routing import as_table, evaluate, feedback_cases, read_labelled
from skills.jsonout import dumps
from skills.registry.loader import load_registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="evaluate_routing", description=__doc__)
    parser.add_argument("file", nargs="?", help='JSON lines: {"task": "...", "agent": "agent-id" or null}')
    parser.add_argument(
        "--feedback", action="store_true", help="score on the verdicts recorded with route_feedback instead of a file"
    )
    parser.add_argument("--format", choices=("json", "table"), default="json")
    parser.add_argument("--pretty", action="store_true")
    parser.add_argument("--min-accuracy", type=float, default=None, help="exit 1 when accuracy is below this (0..1)")
    args = parser.parse_args(argv)
    try:
        if bool(args.file) == args.feedback:
            raise BadInput("give either a FILE of labelled tasks or --feedback", field="file")
        settings = load_settings()
        cases = feedback_cases(settings) if args.feedback else read_labelled(args.file)
        registry = load_registry(settings.registry_path, settings.state_dir)
        report = evaluate(registry, cases)
        if args.feedback:  # confirmed verdicts are what routing learnt from: the pending ones are the fair test
            pending = [case for case in cases if not case["confirmed"]]
            report["feedback"] = {
                "tasks": len(cases),
                "confirmed": len(cases) - len(pending),
                "pending_accuracy": evaluate(registry, pending)["accuracy"] if pending else None,
            }
    except OrchestratorError as error:
        print(dumps(error.to_json()))
        return error.exit_status
    print(as_table(report) if args.format == "table" else dumps(report, args.pretty))
    if args.min_accuracy is not None and report["accuracy"] < args.min_accuracy:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
