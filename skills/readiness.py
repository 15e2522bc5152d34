"""Is an agent ready to run here? Which settings it still needs, in words a user can act on."""

from __future__ import annotations

HOW_TO_CONFIGURE = {
    "database": "NEON_DATABASE_URL is not set: set it in .env, or start the demo database with `bin/demo_database start`",
    "convex": "CONVEX_URL is not set: set CONVEX_URL (and CONVEX_DEPLOY_KEY) in .env to your Convex deployment",
}


def missing_requirements(agent: dict, settings) -> list[str]:
    present = {
        "database": settings.effective_database_url() is not None,
        "convex": settings.convex_url is not None,
    }
    return [need for need in agent.get("requires", []) if not present.get(need, False)]


def readiness(agent: dict, settings) -> dict:
    """{"configured", "missing", "message", "execution_mode"} for agent_info, list_agents and /health."""
    missing = missing_requirements(agent, settings)
    return {
        "configured": not missing,
        "missing": missing,
        "message": "; ".join(HOW_TO_CONFIGURE[need] for need in missing) if missing else "ready",
        "execution_mode": "claude" if settings.anthropic_api_key else "offline (no ANTHROPIC_API_KEY)",
    }
