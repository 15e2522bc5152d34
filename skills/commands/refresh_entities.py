"""refresh_entities: read the names the agents declare under `entities:` from their data, now.

Routes refresh them by themselves once they are older than ORCHESTRATOR_ENTITY_TTL; this is for
right after the data changed (or a database was configured), and for cron.
"""

from __future__ import annotations

import datetime as dt

from skills.cli import run_script
from skills.contracts import REFRESH_ENTITIES
from skills.registry.loader import load_registry, routing_input_path
from skills.routing.names.sources import refresh, summary


def handle(fields: dict, settings) -> tuple[dict, int]:
    registry = load_registry(settings.registry_path, settings.state_dir)
    value = refresh(settings, registry["agents"])
    agents = summary(value)
    report = {
        "refreshed": True,
        "fetched_at": dt.datetime.fromtimestamp(value["fetched_at"], dt.UTC).isoformat(timespec="seconds"),
        "path": routing_input_path(settings.state_dir, "entities"),
        "ttl_s": settings.entity_ttl_s,
        "total": sum(
            counts[role]
            for counts in agents.values()
            for role in ("names", "places", "references", "identifiers", "titles")
        ),
        "agents": agents,
        "errors": value["errors"],
    }
    return report, 3 if value["errors"] else 0


def main(argv: list[str] | None = None) -> int:
    return run_script(REFRESH_ENTITIES, handle, argv)
