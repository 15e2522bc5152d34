"""The names in the agents' own data (contractors, projects, towns, tables), read for routing.

An agent declares where its names live under `entities:` in registry/agents.yaml (checked by
skills/registry/loader.py):
- `{source: database, table: contractors, column: name}`: the distinct values of one column
  (`where: {kind: [supplier, vendor]}` narrows the rows; `role: place` marks towns and
  provinces, `role: reference` names the agent's records only mention, like an RFQ's supplier:
  both count only beside other evidence for the agent);
- `{source: database, kind: tables}`: the database's table and column names;
- `{source: convex, kind: task_titles}`: the titles of the team's Convex tasks.

`refresh()` reads them (PostgreSQL read-only through skills/backends/database.py, the demo database
or NEON_DATABASE_URL; Convex through skills/backends/convex.py) into the `entities` routing input:

    {"fetched_at": unix seconds, "agents": {agent_id: [name, ...]}, "places": {...}, "references": {...},
     "identifiers": {...}, "titles": {...}, "errors": {agent_id: message}, "skipped": {agent_id: reason},
     "schemas": {agent_id: Schema JSON}}

A data agent's (registry `data:`) schema is read with them (skills/answers/schema_cache.py), so the
interpreter's view of the database is as fresh as routing's names.

A source that fails keeps the agent's previous names and records the error (never a secret).
Routes ask skills/registry/loader.py's `entity_names_due()`: it costs a stat until the names are older
than ORCHESTRATOR_ENTITY_TTL, and only then is this module imported (by skills/routing/names/refresh.py)
to refresh them first. No data source configured means routing without entities, never an error.
"""

import os
import time

from skills.errors import BadInput, OrchestratorError
from skills.registry.loader import read_routing_inputs, routing_input_path, write_routing_input

# keys of the routing input (read by skills/routing/names/evidence.py); a column source's `role` picks one
ROLES = ("agents", "places", "references", "identifiers", "titles")
ROLE_KEYS = {"name": "agents", "place": "places", "reference": "references"}
MAX_NAMES_PER_SOURCE = 5000  # a column of more distinct values than this is not a list of names
CONVEX_TASK_LIMIT = 200  # tasks:list returns at most this many


# ---------------------------------------------------------------- reading one agent's sources


def _column_query(entry: dict):
    from psycopg2 import sql

    table = sql.Identifier(*entry["table"].split("."))
    column = sql.Identifier(entry["column"])
    filters, params = [], []
    for name, wanted in entry.get("where", {}).items():
        filters.append(sql.SQL(" AND {}::text = ANY(%s)").format(sql.Identifier(name)))
        params.append(wanted if isinstance(wanted, list) else [wanted])
    statement = sql.SQL("SELECT DISTINCT {column}::text FROM {table} WHERE {column} IS NOT NULL{filters} ORDER BY 1")
    return statement.format(column=column, table=table, filters=sql.SQL("").join(filters)), params


TABLES_QUERY = (
    "SELECT table_name::text, column_name::text FROM information_schema.columns "
    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
)


def _read_database(db, entry: dict) -> tuple[str, list[str]]:
    """(role, names) of one database source, inside an open ReadOnlySession."""
    if entry.get("kind") == "tables":
        rows = db.query(TABLES_QUERY, cap=MAX_NAMES_PER_SOURCE).rows
        names = {row["table_name"] for row in rows} | {row["column_name"] for row in rows}
        return "identifiers", sorted(names)
    statement, params = _column_query(entry)
    # user_sql: the table and column come from a person (the registry), so a wrong one is BadInput
    result = db.query(statement, params, cap=MAX_NAMES_PER_SOURCE, user_sql=True)
    names = [value for row in result.rows for value in row.values() if isinstance(value, str) and value.strip()]
    return ROLE_KEYS[entry.get("role", "name")], names


def _read_convex(settings, deadline: float | None) -> tuple[str, list[str]]:
    from skills.backends import convex

    found = convex.query(settings, "tasks:list", {"status": "all", "limit": CONVEX_TASK_LIMIT}, deadline=deadline)
    tasks = found.get("tasks", []) if isinstance(found, dict) else []
    return "titles", [t["title"] for t in tasks if isinstance(t, dict) and isinstance(t.get("title"), str)]


def _describe(entry: dict) -> str:
    if "kind" in entry:
        return f"{entry['source']} {entry['kind']}"
    return f"{entry['table']}.{entry['column']}"


class _Database:
    """One read-only session shared by every database source of a refresh, opened on first use."""

    def __init__(self, settings, deadline: float | None):
        self.settings, self.deadline = settings, deadline
        self.session = None
        self.failure: OrchestratorError | None = None

    def read(self, entry: dict) -> tuple[str, list[str]]:
        if self.failure is not None:
            raise self.failure  # the connection failed once: do not wait for it again per source
        if self.session is None:
            from skills.backends.database import ReadOnlySession  # psycopg2: only when a database source is read

            session = ReadOnlySession(self.settings, deadline=self.deadline)
            try:
                self.session = session.__enter__()
            except OrchestratorError as error:
                self.failure = error
                raise
        try:
            return _read_database(self.session, entry)
        except OrchestratorError:
            self.close()  # the failed query aborted the transaction: the next source opens a new one
            raise

    def close(self) -> None:
        if self.session is not None:
            self.session.__exit__(None, None, None)
            self.session = None


def _read_agent(settings, entries: list[dict], database: _Database, deadline: float | None) -> dict:
    """{role: names} for one agent, or {"error": message} when a source failed, {"skipped": reason} when none could be read."""
    lists: dict = {}
    problems, skipped = [], []
    for entry in entries:
        reason = settings.data_source_unavailable(entry["source"])
        if reason:
            skipped.append(reason)
            continue
        try:
            role, names = _read_convex(settings, deadline) if entry["source"] == "convex" else database.read(entry)
        except BadInput as error:
            problems.append(f"{_describe(entry)}: {error.message}; check the agent's `entities:` in the registry")
            continue
        except OrchestratorError as error:
            problems.append(f"{_describe(entry)}: {error.message}")
            continue
        lists.setdefault(role, []).extend(names)
    if problems:
        return {"error": "; ".join(problems)}
    if skipped and not lists:
        return {"skipped": "; ".join(dict.fromkeys(skipped))}
    return {role: sorted(set(names)) for role, names in lists.items()}


# ---------------------------------------------------------------- refreshing


def refresh(settings, agents: list[dict], *, deadline: float | None = None, wait: bool = True) -> dict | None:
    """Read every agent's entity sources and write the `entities` routing input; returns what was written.

    One refresh at a time per state dir: with `wait=False` this returns None when another is running.
    """
    import fcntl

    lock_path = routing_input_path(settings.state_dir, "entities") + ".lock"
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        value = _read_all(settings, agents, deadline)
        write_routing_input(settings.state_dir, "entities", value)
    return value


def _read_all(settings, agents: list[dict], deadline: float | None) -> dict:
    previous = read_routing_inputs(settings.state_dir).get("entities") or {}
    value: dict = {"fetched_at": time.time(), "errors": {}, "skipped": {}}
    for role in ROLES:
        value[role] = {}
    databases: dict[str, _Database] = {}  # one session per database URL variable (a data agent's `url_env`)
    try:
        for agent in agents:
            entries = agent.get("entities")
            if not entries:
                continue
            scoped = settings.for_data(agent.get("data"))
            database = databases.setdefault(scoped.database_url_env, _Database(scoped, deadline))
            read = _read_agent(scoped, entries, database, deadline)
            if "error" in read:
                value["errors"][agent["id"]] = read["error"]
                read = {role: (previous.get(role) or {}).get(agent["id"]) for role in ROLES}  # keep what it had
            elif "skipped" in read:
                value["skipped"][agent["id"]] = read["skipped"]
                continue
            for role in ROLES:
                if read.get(role):
                    value[role][agent["id"]] = read[role]
    finally:
        for database in databases.values():
            database.close()
    if any(agent.get("data") for agent in agents):
        from skills.answers.schema_cache import read_schemas  # the data agents' schemas, kept beside the names

        value["schemas"], failed = read_schemas(settings, agents, previous.get("schemas") or {}, deadline)
        for agent_id, message in failed.items():
            known = value["errors"].get(agent_id)
            value["errors"][agent_id] = f"{known}; {message}" if known else message
        for agent in agents:  # a data agent that declares no `entities:` is known by the names its schema holds
            schema = value["schemas"].get(agent["id"])
            if agent.get("data") and not agent.get("entities") and schema:
                names = {
                    name for table in schema["tables"] for held in table.get("names", {}).values() for name in held
                }
                if names:
                    value["agents"][agent["id"]] = sorted(names)[:MAX_NAMES_PER_SOURCE]
    return value


def summary(value: dict) -> dict:
    """What a refresh did, per agent: how many names of each kind, and errors or why it was skipped."""
    agents: dict = {}

    def counts(agent_id: str) -> dict:
        return agents.setdefault(agent_id, {"names": 0, "places": 0, "references": 0, "identifiers": 0, "titles": 0})

    for role in ROLES:
        for agent_id, names in value.get(role, {}).items():
            counts(agent_id)["names" if role == "agents" else role] = len(names)
    for agent_id, schema in (value.get("schemas") or {}).items():
        counts(agent_id)["tables"] = len(schema.get("tables", ()))
    for agent_id, message in value.get("errors", {}).items():
        counts(agent_id)["error"] = message
    for agent_id, reason in value.get("skipped", {}).items():
        counts(agent_id)["skipped"] = reason
    return agents
