"""Refreshing the names read from the agents' data inside a route, when they are due.

Every route asks skills/registry/loader.py's `entity_names_due()`, which costs one stat until the names
(the `entities` routing input, see skills/routing/names/sources.py) are older than ORCHESTRATOR_ENTITY_TTL.
Only then is this module loaded, and it loads the readers (skills/routing/names/sources.py, then
psycopg2 or the Convex client).
"""

import sys
import time

from skills.registry.loader import entity_names_due, load_registry

ROUTE_REFRESH_BUDGET_S = 3.0  # a refresh inside a route gives up (and keeps the old names) after this


def refresh_if_due(settings, registry: dict) -> dict:
    """The registry, with its entities refreshed first when they are older than the TTL.

    Never raises: a refresh that fails leaves the old names (or none) and the route goes on.
    Two processes due at once: one refreshes, the other routes with what is there.
    """
    if not entity_names_due(settings, registry["index"]):
        return registry
    return refresh_names(settings, registry)


def refresh_names(settings, registry: dict) -> dict:
    """`refresh_if_due` for a caller that has just asked `entity_names_due` itself (route_task)."""
    from skills.errors import OrchestratorError
    from skills.routing.names.sources import refresh  # the readers: only when the names are due

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
