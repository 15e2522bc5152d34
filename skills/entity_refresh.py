"""When the names read from the agents' data are due for a refresh, and refreshing them inside a route.

Every route calls `refresh_if_due()`: until the names (the `entities` routing input, see
skills/entity_sources.py) are older than ORCHESTRATOR_ENTITY_TTL it costs one stat. Only a due
refresh imports the readers (skills/entity_sources.py, then psycopg2 or the Convex client): this
module is on the route path, they are not, so it imports nothing else.
"""

import os
import sys
import time

from skills.registry import load_registry, routing_input_path

ROUTE_REFRESH_BUDGET_S = 3.0  # a refresh inside a route gives up (and keeps the old names) after this


def unavailable_reason(settings, source: str) -> str | None:
    """None when the data source can be read, else why not (what to set)."""
    if source == "database" and not settings.effective_database_url():
        return "no database configured: set NEON_DATABASE_URL or run `bin/demo_database start`"
    if source == "convex" and not settings.convex_url:
        return "Convex is not configured: set CONVEX_URL (and CONVEX_DEPLOY_KEY)"
    return None


def _is_due(settings, index: dict) -> bool:
    backends = index.get("entity_backends")
    if not backends or settings.entity_ttl_s <= 0:
        return False
    try:
        age = time.time() - os.stat(routing_input_path(settings.state_dir, "entities")).st_mtime
    except OSError:
        age = None  # never read
    if age is not None and age < settings.entity_ttl_s:
        return False
    return any(unavailable_reason(settings, backend) is None for backend in backends)


def refresh_if_due(settings, registry: dict) -> dict:
    """The registry, with its entities refreshed first when they are older than the TTL.

    Never raises: a refresh that fails leaves the old names (or none) and the route goes on.
    Two processes due at once: one refreshes, the other routes with what is there.
    """
    if not _is_due(settings, registry["index"]):
        return registry
    from skills.entity_sources import refresh  # the readers: only when the names are due
    from skills.errors import OrchestratorError

    try:
        done = refresh(settings, registry["agents"], deadline=time.monotonic() + ROUTE_REFRESH_BUDGET_S, wait=False)
    except (OSError, OrchestratorError) as error:
        from skills.redaction import redact

        message = redact(getattr(error, "message", None) or str(error), settings)
        print(f"entities: refresh failed, routing with the names already known: {message}", file=sys.stderr)
        return registry
    if done is None:
        return registry  # another process is refreshing right now
    return load_registry(settings.registry_path, settings.state_dir)
