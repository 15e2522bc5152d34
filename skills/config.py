"""All configuration, read in one place: the environment, then `.env` (python-dotenv).

Values are passed down as a `Settings` object; nothing else reads os.environ. python-dotenv
is imported only when a `.env` file exists (skills/lazy.py).

Every setting is listed in `.env.example`.
"""

import copy
import os

from skills import lazy
from skills.errors import BadInput

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP_NAME = "fibreflow-orchestrator"


def _read_dotenv(path: str) -> dict:
    """The values a `.env` file sets, as python-dotenv reads it; {} when there is no such file."""
    if not os.path.isfile(path):
        return {}
    return {k: v for k, v in lazy.dotenv.dotenv_values(path).items() if v is not None}


def _as_number(env: dict, name: str, default, kind, what: str):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return kind(raw)
    except ValueError:
        raise BadInput(f"{name} must be {what}, got {raw!r}", field=name) from None


def _as_int(env: dict, name: str, default: int) -> int:
    return _as_number(env, name, default, int, "a whole number")


def _as_float(env: dict, name: str, default: float) -> float:
    return _as_number(env, name, default, float, "a number")


def _as_bool(env: dict, name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _as_switch(env: dict, name: str, default: bool) -> bool:
    """A yes/no setting with a default; anything but 1/0, true/false, yes/no, on/off is refused."""
    raw = env.get(name, "").strip().lower()
    if raw in ("", "1", "true", "yes", "on", "0", "false", "no", "off"):
        return default if raw == "" else raw in ("1", "true", "yes", "on")

    raise BadInput(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {env[name]!r}", field=name)


def default_state_dir(env: dict) -> str:
    base = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, APP_NAME)


class Settings:
    """Plain attributes; build with `load_settings()` (or directly from a dict in tests)."""

    def __init__(self, env: dict):
        self.env = env
        root = PROJECT_ROOT
        self.project_root = root
        self.registry_path = env.get("ORCHESTRATOR_REGISTRY") or os.path.join(root, "registry", "agents.yaml")
        self.agents_dir = env.get("ORCHESTRATOR_AGENTS_DIR") or os.path.join(root, "agents")
        self.state_dir = env.get("ORCHESTRATOR_STATE_DIR") or default_state_dir(env)
        # the same verdict on a task this many times before routing learns it (skills/ledger/corrections.py)
        self.feedback_confirmations = max(1, _as_int(env, "ORCHESTRATOR_FEEDBACK_CONFIRMATIONS", 2))

        # Claude
        self.anthropic_api_key = env.get("ANTHROPIC_API_KEY") or None
        self.anthropic_base_url = env.get("ANTHROPIC_BASE_URL") or None
        self.max_turns = _as_int(env, "ORCHESTRATOR_MAX_TURNS", 8)
        self.max_tokens = _as_int(env, "ORCHESTRATOR_MAX_TOKENS", 1024)
        self.agent_timeout_s = _as_float(env, "ORCHESTRATOR_AGENT_TIMEOUT", 60.0)
        self.tool_result_chars = _as_int(env, "ORCHESTRATOR_TOOL_RESULT_CHARS", 4000)
        # a data agent's schema and lexicon, summarised into the model's system prompt, within this many tokens
        self.schema_summary_tokens = _as_int(env, "ORCHESTRATOR_SCHEMA_SUMMARY_TOKENS", 1500)
        # the one short call that settles an unsure route (skills/execution/fallback.py): no retries
        self.llm_fallback_timeout_s = _as_float(env, "ORCHESTRATOR_LLM_FALLBACK_TIMEOUT", 2.0)

        # PostgreSQL (Neon in production; the demo database otherwise)
        self.database_url = env.get("NEON_DATABASE_URL") or env.get("DATABASE_URL") or None
        self.database_url_env = "NEON_DATABASE_URL"  # the variable named when no database is configured
        self.sql_statement_timeout_ms = _as_int(env, "ORCHESTRATOR_SQL_TIMEOUT_MS", 5000)
        self.sql_row_cap = _as_int(env, "ORCHESTRATOR_SQL_ROW_CAP", 200)
        # a result stops growing past this many bytes of JSON (and says truncated), whatever the row count
        self.sql_result_bytes = _as_int(env, "ORCHESTRATOR_SQL_RESULT_BYTES", 1_000_000)
        # a superuser or a role that can write is refused at connect unless this is set (logged as a warning)
        self.allow_privileged_database = _as_bool(env, "ORCHESTRATOR_ALLOW_PRIVILEGED_DATABASE")

        # Shared state for several replicas and workers (skills/store): the ledger, async tasks and rate
        # limits live in this PostgreSQL database when set; unset, in SQLite in the state directory
        self.orchestrator_database_url = env.get("ORCHESTRATOR_DATABASE_URL") or None
        # executions (and routing-fallback calls) older than this many days are pruned in the background
        # by the server and the worker (skills/ledger/retention.py); statistics cover this window; 0 keeps all
        self.ledger_days = _as_int(env, "ORCHESTRATOR_LEDGER_DAYS", 90)
        if self.ledger_days < 0:
            raise BadInput(
                f"ORCHESTRATOR_LEDGER_DAYS must be 0 (keep every execution) or a number of days, got {self.ledger_days}",
                field="ORCHESTRATOR_LEDGER_DAYS",
            )

        # Routing: names read from the agents' data (skills/routing/names/sources.py) are refreshed when older
        # than this many seconds; 0 leaves it to bin/refresh_entities
        self.entity_ttl_s = _as_float(env, "ORCHESTRATOR_ENTITY_TTL", 3600.0)

        # Convex
        self.convex_url = env.get("CONVEX_URL") or None
        self.convex_deploy_key = env.get("CONVEX_DEPLOY_KEY") or None

        # SSH / servers for vps-monitor
        self.servers_file = env.get("ORCHESTRATOR_SERVERS") or os.path.join(root, "registry", "servers.yaml")
        self.ssh_known_hosts = env.get("ORCHESTRATOR_SSH_KNOWN_HOSTS") or os.path.join(
            os.path.expanduser("~"), ".ssh", "known_hosts"
        )
        self.ssh_trust_on_first_use = _as_bool(env, "ORCHESTRATOR_SSH_TRUST_ON_FIRST_USE")
        self.ssh_timeout_s = _as_float(env, "ORCHESTRATOR_SSH_TIMEOUT", 10.0)

        # HTTP server
        self.api_key = env.get("ORCHESTRATOR_API_KEY") or None
        self.allowed_origins = [o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip()]
        # names the Host header may carry besides loopback and IP addresses ('*': any), against DNS rebinding
        self.allowed_hosts = [h.strip() for h in env.get("ORCHESTRATOR_ALLOWED_HOSTS", "").split(",") if h.strip()]
        self.rate_limit_per_minute = _as_int(env, "ORCHESTRATOR_RATE_LIMIT", 100)
        # proxies (addresses or networks) whose X-Forwarded-For names the client (skills/server/proxies.py)
        self.trusted_proxies = [p.strip() for p in env.get("ORCHESTRATOR_TRUSTED_PROXIES", "").split(",") if p.strip()]
        self.log_path = env.get("ORCHESTRATOR_LOG") or os.path.join(self.state_dir, "orchestrator.log")
        self.bin_dir = env.get("ORCHESTRATOR_BIN_DIR") or os.path.join(root, "bin")  # the scripts the server runs
        self.server_workers = _as_int(env, "ORCHESTRATOR_WORKERS", 2)  # per script; 0 = a process per request
        self.request_timeout_s = _as_float(env, "ORCHESTRATOR_REQUEST_TIMEOUT", 10.0)  # + agent_timeout_s to execute
        self.max_in_flight = _as_int(env, "ORCHESTRATOR_MAX_IN_FLIGHT", 32)  # more concurrent requests get 503
        # open connections (a thread each, idle keep-alive and WebSockets too); more get 503 at once; 0: no cap
        self.max_connections = _as_int(env, "ORCHESTRATOR_MAX_CONNECTIONS", 256)
        self.shutdown_grace_s = _as_float(env, "ORCHESTRATOR_SHUTDOWN_GRACE", 10.0)  # running async tasks may finish
        self.worker_idle_s = _as_float(env, "ORCHESTRATOR_WORKER_IDLE", 60.0)  # burst workers retire after this idle

        # Async tasks, a durable queue (skills/gateway/claimer.py): claimed by servers and bin/orchestrator_worker
        self.claim_tasks = _as_switch(env, "ORCHESTRATOR_CLAIM_TASKS", True)  # 0: this server only serves HTTP
        self.async_concurrency = _as_int(env, "ORCHESTRATOR_ASYNC_CONCURRENCY", 4)  # tasks run at once per process
        self.task_lease_s = _as_float(env, "ORCHESTRATOR_TASK_LEASE", 15.0)  # a dead claimer's task moves on after this

    def data_source_unavailable(self, source: str) -> str | None:
        """None when an agent's data source ("database", "convex") can be read, else what to set."""
        if source == "database" and not self.effective_database_url():
            return f"no database configured: set {self.database_url_env} or run `bin/demo_database start`"
        if source == "convex" and not self.convex_url:
            return "Convex is not configured: set CONVEX_URL (and CONVEX_DEPLOY_KEY)"
        return None

    @property
    def demo_database_url_file(self) -> str:
        """Where the demo PostgreSQL started by `bin/demo_database` writes its URL."""
        return os.path.join(self.state_dir, "demo-postgres", "url")

    def for_data(self, data: dict | None) -> "Settings":
        """These settings over a data agent's own database (its registry `data.url_env`): that variable's
        value, else the running demo database. NEON_DATABASE_URL and DATABASE_URL keep today's order
        (NEON_DATABASE_URL, DATABASE_URL, the demo database), so the settings are these ones."""
        url_env = (data or {}).get("url_env") or "NEON_DATABASE_URL"
        if url_env in ("NEON_DATABASE_URL", "DATABASE_URL"):
            return self
        scoped = copy.copy(self)
        scoped.database_url_env = url_env
        scoped.database_url = self.env.get(url_env) or None
        return scoped

    def effective_database_url(self) -> str | None:
        """NEON_DATABASE_URL / DATABASE_URL, else the running demo database, else None."""
        if self.database_url:
            return self.database_url
        try:
            with open(self.demo_database_url_file, encoding="utf-8") as handle:
                return handle.read().strip() or None
        except OSError:
            return None


def load_settings(environ: dict | None = None) -> Settings:
    """Environment first, `.env` (ORCHESTRATOR_ENV_FILE or the project's) fills the gaps."""
    env = dict(os.environ if environ is None else environ)
    dotenv_path = env.get("ORCHESTRATOR_ENV_FILE") or os.path.join(PROJECT_ROOT, ".env")
    merged = _read_dotenv(dotenv_path)
    merged.update(env)
    return Settings(merged)
