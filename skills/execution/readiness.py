"""Is an agent ready to run here? Which settings it still needs, in words a user can act on."""

from __future__ import annotations

HOW_TO_CONFIGURE = {
    "database": "NEON_DATABASE_URL is not set: set it in .env, or start the demo database with `bin/demo_database start`",
    "convex": "CONVEX_URL is not set: set CONVEX_URL (and CONVEX_DEPLOY_KEY) in .env to your Convex deployment",
}


def missing_requirements(agent: dict, settings) -> list[str]:
    """What the agent requires that is not set up (Settings.data_source_unavailable decides, as it
    does for routing's entity names); a requirement nobody knows how to set up counts as missing."""
    return [
        need
        for need in agent.get("requires", [])
        if need not in HOW_TO_CONFIGURE or settings.data_source_unavailable(need) is not None
    ]


def readiness(agent: dict, settings) -> dict:
    """{"configured", "missing", "message", "execution_mode"} for agent_info, list_agents and /health."""
    missing = missing_requirements(agent, settings)
    return {
        "configured": not missing,
        "missing": missing,
        "message": "; ".join(HOW_TO_CONFIGURE[need] for need in missing) if missing else "ready",
        "execution_mode": "claude" if settings.anthropic_api_key else "offline (no ANTHROPIC_API_KEY)",
    }
