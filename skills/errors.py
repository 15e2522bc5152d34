"""Every failure a user can act on, each with a stable code, exit status and HTTP status.

Scripts print `error.to_json()` on stdout and exit with `error.exit_status`; the HTTP
server answers with `error.http_status`. This module is on the routing hot path, so it
imports nothing.

Exit statuses: 0 success, 1 no match / not found / the agent could not answer,
2 bad input or configuration, 3 an upstream service failed or timed out.
"""


class OrchestratorError(Exception):
    code = "internal_error"
    exit_status = 2
    http_status = 500

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}

    def to_json(self) -> dict:
        body = {"error": self.message, "code": self.code}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class BadInput(OrchestratorError):
    """The caller's arguments or JSON are wrong; `field` names what to fix."""

    code = "bad_input"
    exit_status = 2
    http_status = 422


class RegistryInvalid(OrchestratorError):
    """registry/agents.yaml (or the file ORCHESTRATOR_REGISTRY names) does not validate."""

    code = "registry_invalid"
    exit_status = 2
    http_status = 500


class AgentNotFound(OrchestratorError):
    code = "agent_not_found"
    exit_status = 1
    http_status = 404


class NotFound(OrchestratorError):
    """The question names a thing (server, contractor, project, site, table, material) that does not exist.

    The message names it and the closest known ones; `details["closest"]` lists them. Never answered
    with another thing's data.
    """

    code = "not_found"
    exit_status = 1
    http_status = 404

    def __init__(
        self, what: str, name: str, closest: list[str] | None = None, *, field: str | None = None, hint: str = ""
    ):
        closest = list(closest or [])
        message = f"no {what} named {name!r}"
        if closest:
            message += f"; the closest known {what}s are: {', '.join(closest)}"
        if hint:
            message += f" ({hint})"
        super().__init__(message, field=field, details={"kind": what, "name": name, "closest": closest})


class AgentUnavailable(OrchestratorError):
    """The agent exists but is inactive or in maintenance."""

    code = "agent_unavailable"
    exit_status = 1
    http_status = 409


class AgentNotConfigured(OrchestratorError):
    """A setting the agent needs (database URL, Convex URL, ...) is missing."""

    code = "agent_not_configured"
    exit_status = 2
    http_status = 503


class DatabaseRoleUnsafe(OrchestratorError):
    """The role behind NEON_DATABASE_URL could write or read the server's files; the message says what to grant."""

    code = "database_role_unsafe"
    exit_status = 2
    http_status = 503


class ModelRequired(OrchestratorError):
    """The offline path cannot answer this query; it needs Claude (ANTHROPIC_API_KEY)."""

    code = "model_required"
    exit_status = 2
    http_status = 503


class ToolRefused(OrchestratorError):
    """A tool refused the request for safety (a SQL write, a command not on the allow-list)."""

    code = "tool_refused"
    exit_status = 1
    http_status = 403


class UpstreamUnavailable(OrchestratorError):
    """A service we depend on (PostgreSQL, SSH host, Anthropic, Convex) failed."""

    code = "upstream_unavailable"
    exit_status = 3
    http_status = 502


class ExecutionTimeout(OrchestratorError):
    code = "timeout"
    exit_status = 3
    http_status = 504


class NoMatch(OrchestratorError):
    """Routing found no agent for the task (used where a caller needs an agent)."""

    code = "no_match"
    exit_status = 1
    http_status = 404
