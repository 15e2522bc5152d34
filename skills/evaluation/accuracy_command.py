"""benchmark_accuracy: routing accuracy on a public benchmark (CLINC150 val, K=5 and K=20) and
on the FibreFlow dev set, in one table. Each registry is built and calibrated from scratch."""

from __future__ import annotations

import argparse
import os
import sys
import time

from skills.config import PROJECT_ROOT, load_settings
from skills.errors import OrchestratorError
from skills.evaluation.clinc import DEFAULT_DIR, clinc_registry, score_split
from skills.evaluation.routing import evaluate, read_labelled
from skills.jsonout import dumps
from skills.registry.loader import load_registry

DEV_SET = os.path.join(os.path.dirname(PROJECT_ROOT), "shared", "routing", "dev_tasks.jsonl")


def clinc_row(data_dir: str, k: int) -> dict:
    started = time.perf_counter()
    registry = clinc_registry(data_dir, k)
    built = time.perf_counter() - started
    scores = score_split(registry, data_dir, "val")
    header = registry["index"]["header"]
    return {
        "set": f"CLINC150 val, K={k}",
        "in_scope_right": scores["in_scope_right"],
        "unrelated_refused": scores["out_of_scope_refused"],
        "requests": scores["in_scope"] + scores["out_of_scope"],
        "build_s": round(built, 2),
        "trigger_weight": header["beta"],
        "threshold": header["threshold"],
    }


def labelled_row(name: str, registry: dict, path: str) -> dict:
    cases = read_labelled(path)
    report = evaluate(registry, cases)
    in_scope = [m for m in report["misrouted"] if m["expected"] is not None]
    unrelated_total = sum(1 for case in cases if case["agent"] is None)
    unrelated_wrong = sum(1 for m in report["misrouted"] if m["expected"] is None)
    scoped_total = len(cases) - unrelated_total
    return {
        "set": name,
        "in_scope_right": round(1 - len(in_scope) / scoped_total, 4) if scoped_total else None,
        "unrelated_refused": round(1 - unrelated_wrong / unrelated_total, 4) if unrelated_total else None,
        "requests": len(cases),
        "accuracy": report["accuracy"],
        "misrouted": report["misrouted"],
    }


def as_table(rows: list[dict]) -> str:
    def percent(value):
        return "-" if value is None else f"{value:.1%}"

    width = max(len(row["set"]) for row in rows) + 2
    lines = ["set".ljust(width) + "in-scope right".rjust(16) + "unrelated refused".rjust(19) + "requests".rjust(10)]
    for row in rows:
        lines.append(
            row["set"].ljust(width)
            + percent(row["in_scope_right"]).rjust(16)
            + percent(row["unrelated_refused"]).rjust(19)
            + str(row["requests"]).rjust(10)
        )
    for row in rows:
        for miss in row.get("misrouted", ()):
            lines.append(f"  {row['set']}: {miss['task']!r} expected {miss['expected']}, got {miss['got']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmark_accuracy", description=__doc__)
    parser.add_argument("--clinc-dir", default=DEFAULT_DIR, help="folder with CLINC150 domains.json, train/val.jsonl")
    parser.add_argument("--k", type=int, action="append", help="examples per intent (default: 5 and 20)")
    parser.add_argument("--labelled", action="append", default=[], help="another labelled JSONL set to score")
    parser.add_argument("--format", choices=("json", "table"), default="table")
    parser.add_argument("--pretty", action="store_true")
    args = parser.parse_args(argv)
    try:
        rows = [clinc_row(args.clinc_dir, k) for k in (args.k or [5, 20])]
        settings = load_settings()
        registry = load_registry(settings.registry_path, settings.state_dir)
        for name, path in [("FibreFlow dev set", DEV_SET)] + [(os.path.basename(p), p) for p in args.labelled]:
            rows.append(labelled_row(name, registry, path))
    except OrchestratorError as error:
        print(dumps(error.to_json()))
        return error.exit_status
    print(as_table(rows) if args.format == "table" else dumps({"rows": rows}, args.pretty))
    return 0


if __name__ == "__main__":
    sys.exit(main())
