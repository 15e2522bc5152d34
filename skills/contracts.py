"""What each script takes, declared once: its fields, and the requests HTTP and MCP send it.

A `Field` is one input (its JSON name, kind, limits, meaning and command-line flag). A `Contract`
is a script's fields in order; a `Request` is the part of a contract one HTTP endpoint or MCP
tool sends, with which fields it requires. Everything else is derived from these declarations:
- the command line and `--help` (skills/cli.py parses `contract.fields`);
- the HTTP request checks (skills/gateway/validation.py checks a `Request`);
- the OpenAPI request schemas (skills/server/openapi.py's `request_schema`);
- the MCP tools' input schemas (skills/mcp/tools.py's `input_schema`).
So a field added here appears in all four, and a limit changed here changes all four.

The declarations live in one module rather than beside each command so that HTTP, MCP and
OpenAPI read them without importing the commands (and the registry and routing behind them).
It is on the routing hot path: plain classes, no imports.
"""

VERSION = "0.1.0"  # the API's, the MCP server's and the package's (pyproject.toml reads it from here)

MAX_TEXT = 5000  # characters in a task or query, as the guide's input validation says
MAX_AGENT_ID = 100  # characters in an agent id (and in other short names: a category, a --since)
MAX_BATCH = 50  # tasks in one batch request
# A script looks an agent id up to this long (answering "no agent ...; known agents: ...") rather than
# refusing it as too long: the answer that helps a person who mistyped. HTTP and MCP refuse over MAX_AGENT_ID.
LOOKED_UP_ID = 200

# kinds of field values
TEXT, FLAG, OBJECT = "text", "flag", "object"

# What workforce_stats understands (skills/ledger/stats.parse_since), as a pattern clients can check.
SINCE_PATTERN = (
    r"^\s*([0-9]{1,4}[mhdw]|(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?(Z|[+-][01][0-9]:[0-5][0-9])?)?)?\s*$"
)


class Field:
    """One input of a script.

    `flag` is its command-line option ("--auto-select" for auto_select unless given; None: only in
    JSON input). `required` means required wherever the field is sent; a field required by one
    request only (execute's agent) says so in that `Request`. `nullable`: JSON null is a value of
    its own (a feedback's "no agent"), not "absent". `pattern` and `example` only describe it
    (OpenAPI); the checks are the script's.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        help: str,
        *,
        flag: str | None = "",
        required: bool = False,
        max_len: int | None = None,
        nullable: bool = False,
        pattern: str | None = None,
        example: str | None = None,
    ):
        self.name, self.kind, self.help = name, kind, help
        self.flag = "--" + name.replace("_", "-") if flag == "" else flag
        self.required, self.max_len, self.nullable = required, max_len, nullable
        self.pattern, self.example = pattern, example

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.kind!r})"


class Request:
    """The fields one endpoint or tool sends a script, in order, and which of them it requires."""

    def __init__(self, name: str, fields: tuple[Field, ...], required: tuple[str, ...] = ()):
        self.name = name
        self.fields = fields
        self.required = tuple(f.name for f in fields if f.required or f.name in required)
        unknown = set(required) - {f.name for f in fields}
        if unknown:
            raise ValueError(f"{name} requires fields it does not send: {sorted(unknown)}")

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


class Contract:
    """A script: its name, what it does, its fields, and what its exit statuses mean."""

    def __init__(self, script: str, summary: str, fields: tuple[Field, ...], exits: dict[int, str] | None = None):
        self.script, self.summary, self.fields = script, summary, fields
        self.exits = exits or {}

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def request(self, name: str, names: tuple[str, ...] | None = None, required: tuple[str, ...] = ()) -> Request:
        """The request sending `names` (default: every field) of this script."""
        chosen = self.fields if names is None else tuple(self.field(n) for n in names)
        return Request(name, chosen, required)


_CONTEXT = Field("context", OBJECT, 'request context passed to routing and the agent, e.g. {"page": "monitoring"}')

ROUTE_TASK = Contract(
    "route_task",
    "Route a task to the best agent; prints the routing decision as JSON.",
    (
        Field(
            "task",
            TEXT,
            "the task in the user's words",
            required=True,
            max_len=MAX_TEXT,
            example="Check CPU usage on the server",
        ),
        Field("auto_select", FLAG, "always pick the best agent when any matches"),
        _CONTEXT,
        Field("explain", FLAG, "show what contributed to each candidate's score"),
        Field(
            "llm_fallback",
            FLAG,
            "when routing is unsure, let the registry's cheapest model choose among the candidates "
            "(needs ANTHROPIC_API_KEY; off unless asked for)",
        ),
    ),
    exits={0: "routed (or several agents fit: see options)", 1: "no agent matches the task (no_match)"},
)

EXECUTE_AGENT = Contract(
    "execute_agent",
    "Run a query through a named agent, or route a task first and run the chosen agent (smart execute); "
    "prints the result as JSON.",
    (
        Field(
            "agent",
            TEXT,
            "the agent id, e.g. neon-database (with query)",
            max_len=MAX_AGENT_ID,
            example="neon-database",
        ),
        Field("query", TEXT, "what to ask the agent", max_len=MAX_TEXT, example="How many active contractors?"),
        Field(
            "task",
            TEXT,
            "the task in the user's words: routed first, then run on the chosen agent (smart execute; without agent)",
            max_len=MAX_TEXT,
            example="Show me server health metrics",
        ),
        _CONTEXT,
        Field("direct", FLAG, "use the offline fast path even when ANTHROPIC_API_KEY is set"),
        Field("no_llm_fallback", FLAG, "smart execute: never ask the model when routing is unsure"),
        Field(
            "llm_fallback",
            FLAG,
            "smart execute: ask the model when routing is unsure (default true, when the server has "
            "ANTHROPIC_API_KEY; false = --no-llm-fallback)",
            flag=None,
        ),
    ),
    exits={1: "the agent could not answer, or smart execute found no agent or several (see options)"},
)

LIST_AGENTS = Contract(
    "list_agents",
    "List the agents (as a JSON array).",
    (Field("category", TEXT, "only agents of this category, e.g. infrastructure, database", max_len=MAX_AGENT_ID),),
)

AGENT_INFO = Contract(
    "agent_info",
    "Show one agent's details and configuration state.",
    (Field("agent", TEXT, "the agent id, e.g. vps-monitor", required=True, max_len=MAX_AGENT_ID),),
    exits={1: "no agent has that id"},
)

WORKFORCE_STATS = Contract(
    "workforce_stats",
    "Workforce statistics with measured per-agent figures.",
    (
        Field(
            "since",
            TEXT,
            "only executions since 24h / 7d / 30m / 2w or an ISO date (2026-11-01, 2026-11-01T08:00Z)",
            max_len=MAX_AGENT_ID,
            pattern=SINCE_PATTERN,
        ),
    ),
)

ROUTE_FEEDBACK = Contract(
    "route_feedback",
    "Record which agent should have taken a task (a routing verdict).",
    (
        Field(
            "task",
            TEXT,
            "the task as it was asked",
            required=True,
            max_len=MAX_TEXT,
            example="Is the gang doing the trenching swamped?",
        ),
        Field(
            "routed_agent",
            TEXT,
            "the agent routing chose; none (JSON null) when it chose none (no_match)",
            required=True,
            max_len=MAX_AGENT_ID,
            nullable=True,
            example="vps-monitor",
        ),
        Field(
            "correct_agent",
            TEXT,
            "the agent that should have taken the task; none (JSON null) when none should have",
            required=True,
            max_len=MAX_AGENT_ID,
            nullable=True,
            example="contractor-agent",
        ),
        Field("confirm", FLAG, "an operator's verdict: routing learns it at once"),
        Field("source", TEXT, "who gives the verdict: cli (the default) or http (what the HTTP API sends)", flag=None),
    ),
)

REFRESH_ENTITIES = Contract(
    "refresh_entities",
    "Read the entity names agents declare (registry `entities:`) from their data; prints counts per agent.",
    (),
    exits={3: "a data source could not be read (see errors; the names read are kept)"},
)

# --- what HTTP and MCP send --------------------------------------------------------------------

ROUTE = ROUTE_TASK.request("RouteRequest")
EXECUTE = EXECUTE_AGENT.request("ExecuteRequest", ("agent", "query", "context"), required=("agent", "query"))
SMART_EXECUTE = EXECUTE_AGENT.request("SmartExecuteRequest", ("task", "context", "llm_fallback"), required=("task",))
FEEDBACK = ROUTE_FEEDBACK.request("FeedbackRequest", ("task", "routed_agent", "correct_agent"))
# The MCP tools also take `direct` (the HTTP API leaves the choice to the server).
EXECUTE_TOOL = EXECUTE_AGENT.request("execute_agent", ("agent", "query", "context", "direct"), ("agent", "query"))
SMART_EXECUTE_TOOL = EXECUTE_AGENT.request(
    "smart_execute", ("task", "context", "direct", "llm_fallback"), required=("task",)
)
