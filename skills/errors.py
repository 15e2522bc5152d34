"""Every failure a user can act on, each with a stable code, exit status and HTTP status.

One family: each class below is one code, mapped here once to the exit status a script ends
with and the HTTP status the server (and an MCP tool error) answers with. Scripts print
`error.to_json()` on stdout and exit with `error.exit_status`; the HTTP server answers with
`error.http_status` (and `error.headers`, e.g. Retry-After); skills/gateway/replies.py maps a
script's JSON `code` back to its class's HTTP status. `ServerError`'s classes are raised or
answered by the server side only (the gateway, HTTP, MCP), never by a script.
It imports nothing: scripts import it once something fails.
"""

EXIT_STATUSES = {
    0: "success",
    1: "not found: no such agent or thing, no agent for the task, or the agent could not answer",
    2: "bad input or configuration (the JSON error's field says what to fix)",
    3: "an upstream service failed or timed out",
}


class OrchestratorError(Exception):
    """A failure the server did not expect (a bug): 500, and the log says more."""

    code = "internal_error"
    exit_status = 2
    http_status = 500

    def __init__(
        self, message: str, *, field: str | None = None, details: dict | None = None, headers: dict | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}
        self.headers = headers or {}  # HTTP headers the reply carries (Retry-After, Allow)

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


class ReadOnly(OrchestratorError):
    """A request to change data (delete, update, cancel, mark ...) sent to a data agent, which only reads:
    nothing was changed, no tool ran and no model was asked."""

    code = "read_only"
    exit_status = 1
    http_status = 422


class Ambiguous(OrchestratorError):
    """A question a data agent can read in several ways that give different answers: it does not pick
    one; `details["options"]` holds the readings in words, each with what it gives when they were
    few enough to run, to ask again more precisely."""

    code = "ambiguous"
    exit_status = 1
    http_status = 409


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


class UpstreamInvalid(OrchestratorError):
    """A service we depend on answered, but not as its API promises (an odd shape, a redirect elsewhere).

    Apart from UpstreamUnavailable because retrying will not help: the service (or CONVEX_URL) is wrong."""

    code = "upstream_invalid"
    exit_status = 3
    http_status = 502


class ExecutionTimeout(OrchestratorError):
    code = "timeout"
    exit_status = 3
    http_status = 504


class NoMatch(OrchestratorError):
    """Smart execute found no agent for the task (its answer carries the suggestions)."""

    code = "no_match"
    exit_status = 1
    http_status = 404


class AmbiguousTask(OrchestratorError):
    """Smart execute found several agents fitting equally well: it does not guess (its answer has the options)."""

    code = "ambiguous_task"
    exit_status = 1
    http_status = 409


class StoreError(OrchestratorError):
    """The store cannot be used right now (file system full or read-only, database unreachable).

    Both backends raise it (never sqlite3.Error or psycopg2.Error), so callers catch one type; the
    scripts answer it like any error (JSON, exit 3), the server with 503. The message says what was
    wrong and holds no secret."""

    code = "state_unavailable"
    exit_status = 3
    http_status = 503


# --- raised or answered by the server side only ------------------------------------------------


class ServerError(OrchestratorError):
    """A refusal or failure of the server side (the gateway, HTTP, MCP): never printed by a script,
    so none of these is among the statuses an agent run can end in (skills/server/openapi.py)."""


class BadJson(ServerError):
    """The request body is not JSON (or not UTF-8, or nests too deeply)."""

    code = "bad_json"
    http_status = 400


class BadRequest(ServerError):
    """The HTTP request itself is malformed (a Content-Length that is no number, a broken chunked body)."""

    code = "bad_request"
    http_status = 400


class Unauthorized(ServerError):
    """ORCHESTRATOR_API_KEY is set and the request lacks it or has another."""

    code = "unauthorized"
    http_status = 401


class OriginNotAllowed(ServerError):
    """A browser request from an origin that is neither in ALLOWED_ORIGINS nor the server's own."""

    code = "origin_not_allowed"
    http_status = 403


class HostNotAllowed(ServerError):
    """A Host header naming neither loopback, an IP address, nor ORCHESTRATOR_ALLOWED_HOSTS: DNS rebinding."""

    code = "host_not_allowed"
    http_status = 421


class NoEndpoint(ServerError):
    """No endpoint at this path (the same code as NotFound: a client sees one "not found")."""

    code = "not_found"
    exit_status = 1
    http_status = 404


class TaskNotFound(ServerError):
    """No async task has this id."""

    code = "task_not_found"
    http_status = 404


class ExecutionNotFound(ServerError):
    """No execution in the ledger has this id."""

    code = "execution_not_found"
    http_status = 404


class MethodNotAllowed(ServerError):
    code = "method_not_allowed"
    http_status = 405


class LengthRequired(ServerError):
    code = "length_required"
    http_status = 411


class BodyTooLarge(ServerError):
    code = "body_too_large"
    http_status = 413


class UnsupportedMediaType(ServerError):
    code = "unsupported_media_type"
    http_status = 415


class RateLimited(ServerError):
    """More requests a minute from one client than ORCHESTRATOR_RATE_LIMIT allows."""

    code = "rate_limited"
    http_status = 429


class Overloaded(ServerError):
    """Too much in flight (requests, busy workers, queued tasks): retry after Retry-After seconds."""

    code = "overloaded"
    exit_status = 3
    http_status = 503


class ScriptFailure(ServerError):
    """The script behind an endpoint crashed or printed something that is not JSON."""

    code = "script_failed"
    exit_status = 3
    http_status = 502


class Interrupted(ServerError):
    """An async task whose agent writes was stopped by a shutdown: it ends here, never run twice."""

    code = "interrupted"
    exit_status = 3
    http_status = 500


def error_classes(cls: type[OrchestratorError] = OrchestratorError):
    """Every class of the family below `cls` (what maps a code to its HTTP status)."""
    for sub in cls.__subclasses__():
        yield sub
        yield from error_classes(sub)
