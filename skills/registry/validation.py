"""Validating a parsed registry (registry/agents.yaml): every agent's fields, tools and entity sources.

Each failure is a RegistryInvalid that names the file, the agent and the field to fix. Only
needed when a registry file is read (its index is stale or missing): a cached route never
imports this module (skills/registry/loader.py's `validate` loads it on first use).
"""

from skills.errors import RegistryInvalid

STATUSES = ("active", "inactive", "maintenance")
REQUIREMENTS = ("database", "convex")

REQUIRED_FIELDS = {
    "id": str,
    "name": str,
    "category": str,
    "description": str,
    "status": str,
    "model": str,
    "cost_per_query": (int, float),
    "triggers": list,
}
OPTIONAL_FIELDS = {
    "weak_triggers": list,
    "examples": list,
    "context": dict,
    "requires": list,
    "tools": list,
    "default_tool": str,
    "entities": list,
    "data": dict,
}
TOOL_FIELDS = {"name": str, "triggers": list, "examples": list}
# Top-level fields of the original orchestrator's registry.json (skills/registry/importer.py reads it).
ORIGINAL_FORMAT_FIELDS = {"registry_version", "agent_categories", "orchestration_rules", "total_agents"}
TYPE_NAMES = {str: "a string", list: "a list", dict: "a mapping", (int, float): "a number"}


def invalid(path: str, message: str, agent: str | None = None, field: str | None = None) -> RegistryInvalid:
    """The error for a registry file that does not validate, naming the file, the agent and the field."""
    where = f"agent {agent!r}: " if agent else ""
    details = {"file": path}
    if agent:
        details["agent"] = agent
    return RegistryInvalid(f"{path}: {where}{message}", field=field, details=details)


def _check_strings(path: str, agent: str, field: str, values: list, allow_empty: bool) -> None:
    if not values and not allow_empty:
        raise invalid(path, f"field {field!r} must not be empty", agent, field)
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise invalid(path, f"field {field!r} must contain only non-empty strings, got {value!r}", agent, field)


def _check_tools(path: str, agent: str, tools: list) -> None:
    names = set()
    for position, entry in enumerate(tools):
        field = f"tools[{position}]"
        if not isinstance(entry, dict):
            raise invalid(path, f"{field} must be a mapping with name, triggers, examples", agent, field)
        unknown = sorted(set(entry) - set(TOOL_FIELDS))
        if unknown:
            raise invalid(path, f"{field} has unknown field {unknown[0]!r}", agent, f"{field}.{unknown[0]}")
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise invalid(path, f"{field} needs a 'name'", agent, f"{field}.name")
        if entry["name"] in names:
            raise invalid(path, f"tool {entry['name']!r} is listed twice", agent, f"{field}.name")
        names.add(entry["name"])
        for key in ("triggers", "examples"):
            values = entry.get(key, [])
            if not isinstance(values, list):
                raise invalid(path, f"{field}.{key} must be a list", agent, f"{field}.{key}")
            _check_strings(path, agent, f"{field}.{key}", values, allow_empty=True)


# Entity sources (skills/routing/names/sources.py reads them): a column reference, the database's
# table and column names, or Convex task titles. Data, not SQL: the reader builds the query.
ENTITY_SOURCES = {"database": ("tables",), "convex": ("task_titles",)}
ENTITY_FIELDS = ("source", "table", "column", "where", "kind", "role")
ENTITY_ROLES = ("name", "place", "reference")


def _is_identifier(value) -> bool:
    """A SQL identifier the reader may quote: letters, digits, _; `schema.table` allowed for tables."""
    if not isinstance(value, str) or not value:
        return False
    parts = value.split(".")
    return len(parts) <= 2 and all(
        p and (p[0].isalpha() or p[0] == "_") and p.replace("_", "a").isalnum() for p in parts
    )


def _check_entity_source(path: str, agent: str, field: str, entry) -> None:
    def fail(message: str, key: str | None = None) -> RegistryInvalid:
        return invalid(path, f"{field}{'.' + key if key else ''} {message}", agent, f"{field}.{key}" if key else field)

    if not isinstance(entry, dict):
        raise fail("must be a mapping, e.g. {source: database, table: contractors, column: name}")
    unknown = sorted(set(entry) - set(ENTITY_FIELDS))
    if unknown:
        raise fail(f"is not a field of an entity source (known: {', '.join(ENTITY_FIELDS)})", unknown[0])
    source = entry.get("source")
    if source not in ENTITY_SOURCES:
        raise fail(f"must be one of {', '.join(ENTITY_SOURCES)}, got {source!r}", "source")
    kinds = ENTITY_SOURCES[source]
    if "kind" in entry:
        if entry["kind"] not in kinds:
            raise fail(f"must be {' or '.join(kinds)} for source {source}, got {entry['kind']!r}", "kind")
        extra = [key for key in ("table", "column", "where", "role") if key in entry]
        if extra:
            raise fail(f"does not go with kind {entry['kind']}", extra[0])
        return
    if source != "database":
        raise fail(f"is required for source {source} (one of {', '.join(kinds)})", "kind")
    for key in ("table", "column"):
        if not _is_identifier(entry.get(key)) or (key == "column" and "." in entry[key]):
            raise fail(f"must be a {key} name (letters, digits, _), got {entry.get(key)!r}", key)
    if entry.get("role", "name") not in ENTITY_ROLES:
        raise fail(f"must be one of {', '.join(ENTITY_ROLES)}, got {entry['role']!r}", "role")
    where = entry.get("where", {})
    if not isinstance(where, dict):
        raise fail("must be a mapping of column: value or [values]", "where")
    for column, wanted in where.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if not _is_identifier(column) or "." in column:
            raise fail(f"has a bad column name {column!r}", "where")
        if not values or not all(isinstance(v, str) and v for v in values):
            raise fail(f"{column} must be a non-empty string or list of strings", "where")


# A data agent's database (skills/answers/: the interpreter, its lexicon and the generic data tools):
# {url_env: NEON_DATABASE_URL, tables: [contractors, ...], lexicon: lexicon/contractors.yaml}
DATA_FIELDS = ("url_env", "tables", "lexicon")


def _check_data(path: str, agent: str, data: dict) -> None:
    def fail(message: str, key: str | None = None) -> RegistryInvalid:
        return invalid(path, f"data{'.' + key if key else ''} {message}", agent, f"data.{key}" if key else "data")

    unknown = sorted(set(data) - set(DATA_FIELDS))
    if unknown:
        raise fail(f"is not a field of data (known: {', '.join(DATA_FIELDS)})", unknown[0])
    url_env = data.get("url_env")
    if not isinstance(url_env, str) or not url_env or not url_env.replace("_", "A").isalnum() or url_env[0].isdigit():
        raise fail(
            f"must name the environment variable with its PostgreSQL URL (e.g. NEON_DATABASE_URL), got {url_env!r}",
            "url_env",
        )
    tables = data.get("tables")
    if tables is not None:
        if not isinstance(tables, list) or not tables:
            raise fail("must be a non-empty list of table names (omit it for every table the role can read)", "tables")
        for table in tables:
            if not _is_identifier(table):
                raise fail(f"must hold table names (letters, digits, _; schema.table allowed), got {table!r}", "tables")
        if len(set(tables)) != len(tables):
            raise fail("lists a table twice", "tables")
    lexicon = data.get("lexicon")
    if lexicon is not None and (not isinstance(lexicon, str) or not lexicon.strip() or lexicon.startswith("/")):
        raise fail(
            f"must be a file path relative to the registry file (e.g. lexicon/contractors.yaml), got {lexicon!r}",
            "lexicon",
        )


def _check_agent(path: str, position: int, agent) -> dict:
    if not isinstance(agent, dict):
        raise invalid(path, f"agents[{position}] must be a mapping of fields", field=f"agents[{position}]")
    name = agent.get("id") if isinstance(agent.get("id"), str) else f"agents[{position}]"
    unknown = sorted(set(agent) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise invalid(path, f"unknown field {unknown[0]!r}", name, unknown[0])
    for field, kind in REQUIRED_FIELDS.items():
        if field not in agent or agent[field] is None:
            raise invalid(path, f"missing field {field!r}", name, field)
    for field, kind in {**REQUIRED_FIELDS, **OPTIONAL_FIELDS}.items():
        if field in agent and (not isinstance(agent[field], kind) or isinstance(agent[field], bool)):
            raise invalid(path, f"field {field!r} must be {TYPE_NAMES[kind]}, got {agent[field]!r}", name, field)
    if not agent["id"].strip() or " " in agent["id"]:
        raise invalid(path, "field 'id' must be a non-empty slug without spaces", name, "id")
    if agent["status"] not in STATUSES:
        raise invalid(
            path, f"field 'status' must be one of {', '.join(STATUSES)}, got {agent['status']!r}", name, "status"
        )
    if agent["cost_per_query"] < 0:
        raise invalid(path, "field 'cost_per_query' must not be negative", name, "cost_per_query")
    _check_strings(path, name, "triggers", agent["triggers"], allow_empty=False)
    for field in ("weak_triggers", "examples"):
        _check_strings(path, name, field, agent.get(field, []), allow_empty=True)
    for requirement in agent.get("requires", []):
        if requirement not in REQUIREMENTS:
            raise invalid(
                path, f"field 'requires' may contain {', '.join(REQUIREMENTS)}, got {requirement!r}", name, "requires"
            )
    for key, values in agent.get("context", {}).items():
        if not isinstance(values, list):
            raise invalid(path, f"context.{key} must be a list of values", name, f"context.{key}")
        _check_strings(path, name, f"context.{key}", values, allow_empty=False)
    _check_tools(path, name, agent.get("tools", []))
    for number, entry in enumerate(agent.get("entities", [])):
        _check_entity_source(path, name, f"entities[{number}]", entry)
    if "data" in agent:
        _check_data(path, name, agent["data"])
    if "default_tool" in agent and agent["default_tool"] not in {t["name"] for t in agent.get("tools", [])}:
        raise invalid(path, f"default_tool {agent['default_tool']!r} is not one of its tools", name, "default_tool")
    return agent


def validate(document, path: str) -> list[dict]:
    """The agents of a parsed registry document, or RegistryInvalid naming the agent and field."""
    if not isinstance(document, dict):
        raise invalid(path, "the registry must be a mapping with an 'agents' list", field="agents")
    unknown = sorted(set(document) - {"version", "agents", "unrelated"})
    if unknown:
        hint = ""
        if set(unknown) & ORIGINAL_FORMAT_FIELDS:
            hint = f" (this is the original orchestrator's registry.json: convert it with bin/import_registry {path})"
        raise invalid(path, f"unknown top-level field {unknown[0]!r}{hint}", field=unknown[0])
    agents = document.get("agents")
    if not isinstance(agents, list) or not agents:
        raise invalid(path, "'agents' must be a non-empty list", field="agents")
    seen = set()
    checked = []
    for position, agent in enumerate(agents):
        agent = _check_agent(path, position, agent)
        if agent["id"] in seen:
            raise invalid(path, "duplicate id: every agent needs its own", agent["id"], "id")
        seen.add(agent["id"])
        checked.append(agent)
    return checked


def unrelated_requests(document: dict, path: str) -> list[str]:
    """The registry's `unrelated:` list: requests no agent should take (calibration's negatives)."""
    requests = document.get("unrelated", [])
    if not isinstance(requests, list) or not all(isinstance(r, str) and r.strip() for r in requests):
        raise invalid(path, "'unrelated' must be a list of requests (non-empty strings)", field="unrelated")
    return requests
