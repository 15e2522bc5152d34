"""Is an agent ready to run here? Which settings it still needs, in words a user can act on."""

from __future__ import annotations

HOW_TO_CONFIGURE = {
    "database": "NEON_DATABASE_URL is not set: set it in .env, or start the demo database with `bin/demo_database start`",
    "convex": "CONVEX_URL is not set: set CONVEX_URL (and CONVEX_DEPLOY_KEY) in .env to your Convex deployment",
}


def _needs(agent: dict) -> list[str]:
    needs = list(agent.get("requires", []))
    if agent.get("data") and "database" not in needs:
        needs.append("database")  # a data agent reads its database whether or not it says so
    return needs


def how_to_configure(need: str, agent: dict) -> str:
    """What to set, naming a data agent's own variable (`data.url_env`) for its database."""
    url_env = (agent.get("data") or {}).get("url_env")
    if need == "database" and url_env and url_env != "NEON_DATABASE_URL":
        return HOW_TO_CONFIGURE["database"].replace("NEON_DATABASE_URL", url_env)
    return HOW_TO_CONFIGURE.get(need, f"{need} cannot be set up here")


def missing_requirements(agent: dict, settings) -> list[str]:
    """What the agent requires that is not set up (Settings.data_source_unavailable decides, as it
    does for routing's entity names; a data agent's own database by its `data.url_env`); a
    requirement nobody knows how to set up counts as missing."""
    scoped = settings.for_data(agent.get("data")) if agent.get("data") else settings
    return [
        need
        for need in _needs(agent)
        if need not in HOW_TO_CONFIGURE or scoped.data_source_unavailable(need) is not None
    ]


def readiness(agent: dict, settings) -> dict:
    """{"configured", "missing", "message", "execution_mode"} for agent_info, list_agents and /health."""
    missing = missing_requirements(agent, settings)
    return {
        "configured": not missing,
        "missing": missing,
        "message": "; ".join(how_to_configure(need, agent) for need in missing) if missing else "ready",
        "execution_mode": "claude" if settings.anthropic_api_key else "offline (no ANTHROPIC_API_KEY)",
    }
