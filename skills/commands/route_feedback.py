"""route_feedback: record a verdict on a routing, so routing learns from confirmed corrections.

`--task` the task as it was asked, `--routed-agent` what routing chose and `--correct-agent` what
should have taken it (`none` for either: no agent). When a verdict counts as confirmed, and what
routing then learns, is explained in skills/ledger/corrections.py.
"""

from __future__ import annotations

from skills.cli import require_text, run_script
from skills.contracts import ROUTE_FEEDBACK
from skills.errors import BadInput
from skills.registry.loader import load_registry

OPTIONS = ROUTE_FEEDBACK.fields
SOURCES = ("cli", "http")


def _require_present(fields: dict, name: str) -> None:
    """Both agents must be given (null counts): a verdict without them means nothing."""
    if name not in fields:
        flag = "--" + name.replace("_", "-")
        raise BadInput(
            f"field {name!r} is required: give {flag} AGENT_ID, or none (JSON null) for no agent", field=name
        )


def handle(fields: dict, settings) -> tuple[dict, int]:
    from skills.ledger.corrections import record  # the ledger (sqlite3, json) only for this script

    task = require_text(fields, ROUTE_FEEDBACK.field("task"))
    _require_present(fields, "routed_agent")
    _require_present(fields, "correct_agent")
    source = fields.get("source", "cli")
    if source not in SOURCES:
        raise BadInput(f"field 'source' must be one of {', '.join(SOURCES)}", field="source")
    registry = load_registry(settings.registry_path, settings.state_dir)
    answer = record(
        registry, settings, {**fields, "task": task}, source=source, operator_confirmed=bool(fields.get("confirm"))
    )
    return answer, 0


def main(argv: list[str] | None = None) -> int:
    return run_script(ROUTE_FEEDBACK, handle, argv)
