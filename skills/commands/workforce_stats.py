"""workforce_stats: how many agents, which categories, and what the ledger measured."""

from __future__ import annotations

from skills.cli import run_script
from skills.contracts import WORKFORCE_STATS
from skills.ledger.stats import parse_since, workforce_stats
from skills.registry.loader import load_registry

OPTIONS = WORKFORCE_STATS.fields


def handle(fields: dict, settings) -> tuple[dict, int]:
    since = parse_since(fields.get("since"))
    registry = load_registry(settings.registry_path, settings.state_dir)
    return workforce_stats(registry, settings, since), 0


def main(argv: list[str] | None = None) -> int:
    return run_script(WORKFORCE_STATS, handle, argv)
