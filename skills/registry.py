"""Loading and validating the agent registry (registry/agents.yaml), with a cache.

Parsing YAML and building the routing index cost far more than a route, so the built registry
is kept in two places, both keyed on the file's identity (path, inode, size, modification
time), the routing code's and the routing inputs' (see ROUTING_INPUTS):
- on disk, as an index file under the state directory that a fresh process reads only the
  pieces of that one route needs (skills/routing/store.py);
- in memory, for a long-lived process (a `--jsonl` worker): each request then only checks
  the key (a few `stat` calls) and reuses what it has.
A changed file has a new key and is re-read at once; PyYAML is imported only then.
"""

import marshal
import os
import sys

from skills.errors import AgentNotFound, RegistryInvalid

CACHE_FORMAT = 5  # bump when the cached structure or the index changes shape
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
}
TOOL_FIELDS = {"name": str, "triggers": list, "examples": list}
# Top-level fields of the original orchestrator's registry.json (skills/registry_import.py reads it).
ORIGINAL_FORMAT_FIELDS = {"registry_version", "agent_categories", "orchestration_rules", "total_agents"}
TYPE_NAMES = {str: "a string", list: "a list", dict: "a mapping", (int, float): "a number"}


# ---------------------------------------------------------------- validation


def _fail(path: str, message: str, agent: str | None = None, field: str | None = None) -> RegistryInvalid:
    where = f"agent {agent!r}: " if agent else ""
    details = {"file": path}
    if agent:
        details["agent"] = agent
    return RegistryInvalid(f"{path}: {where}{message}", field=field, details=details)


def _check_strings(path: str, agent: str, field: str, values: list, allow_empty: bool) -> None:
    if not values and not allow_empty:
        raise _fail(path, f"field {field!r} must not be empty", agent, field)
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise _fail(path, f"field {field!r} must contain only non-empty strings, got {value!r}", agent, field)


def _check_tools(path: str, agent: str, tools: list) -> None:
    names = set()
    for position, entry in enumerate(tools):
        field = f"tools[{position}]"
        if not isinstance(entry, dict):
            raise _fail(path, f"{field} must be a mapping with name, triggers, examples", agent, field)
        unknown = sorted(set(entry) - set(TOOL_FIELDS))
        if unknown:
            raise _fail(path, f"{field} has unknown field {unknown[0]!r}", agent, f"{field}.{unknown[0]}")
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise _fail(path, f"{field} needs a 'name'", agent, f"{field}.name")
        if entry["name"] in names:
            raise _fail(path, f"tool {entry['name']!r} is listed twice", agent, f"{field}.name")
        names.add(entry["name"])
        for key in ("triggers", "examples"):
            values = entry.get(key, [])
            if not isinstance(values, list):
                raise _fail(path, f"{field}.{key} must be a list", agent, f"{field}.{key}")
            _check_strings(path, agent, f"{field}.{key}", values, allow_empty=True)


# Entity sources (skills/entity_sources.py reads them): a column reference, the database's
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
        return _fail(path, f"{field}{'.' + key if key else ''} {message}", agent, f"{field}.{key}" if key else field)

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


def _check_agent(path: str, position: int, agent) -> dict:
    if not isinstance(agent, dict):
        raise _fail(path, f"agents[{position}] must be a mapping of fields", field=f"agents[{position}]")
    name = agent.get("id") if isinstance(agent.get("id"), str) else f"agents[{position}]"
    unknown = sorted(set(agent) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise _fail(path, f"unknown field {unknown[0]!r}", name, unknown[0])
    for field, kind in REQUIRED_FIELDS.items():
        if field not in agent or agent[field] is None:
            raise _fail(path, f"missing field {field!r}", name, field)
    for field, kind in {**REQUIRED_FIELDS, **OPTIONAL_FIELDS}.items():
        if field in agent and (not isinstance(agent[field], kind) or isinstance(agent[field], bool)):
            raise _fail(path, f"field {field!r} must be {TYPE_NAMES[kind]}, got {agent[field]!r}", name, field)
    if not agent["id"].strip() or " " in agent["id"]:
        raise _fail(path, "field 'id' must be a non-empty slug without spaces", name, "id")
    if agent["status"] not in STATUSES:
        raise _fail(
            path, f"field 'status' must be one of {', '.join(STATUSES)}, got {agent['status']!r}", name, "status"
        )
    if agent["cost_per_query"] < 0:
        raise _fail(path, "field 'cost_per_query' must not be negative", name, "cost_per_query")
    _check_strings(path, name, "triggers", agent["triggers"], allow_empty=False)
    for field in ("weak_triggers", "examples"):
        _check_strings(path, name, field, agent.get(field, []), allow_empty=True)
    for requirement in agent.get("requires", []):
        if requirement not in REQUIREMENTS:
            raise _fail(
                path, f"field 'requires' may contain {', '.join(REQUIREMENTS)}, got {requirement!r}", name, "requires"
            )
    for key, values in agent.get("context", {}).items():
        if not isinstance(values, list):
            raise _fail(path, f"context.{key} must be a list of values", name, f"context.{key}")
        _check_strings(path, name, f"context.{key}", values, allow_empty=False)
    _check_tools(path, name, agent.get("tools", []))
    for number, entry in enumerate(agent.get("entities", [])):
        _check_entity_source(path, name, f"entities[{number}]", entry)
    if "default_tool" in agent and agent["default_tool"] not in {t["name"] for t in agent.get("tools", [])}:
        raise _fail(path, f"default_tool {agent['default_tool']!r} is not one of its tools", name, "default_tool")
    return agent


def validate(document, path: str) -> list[dict]:
    """The agents of a parsed registry document, or RegistryInvalid naming the agent and field."""
    if not isinstance(document, dict):
        raise _fail(path, "the registry must be a mapping with an 'agents' list", field="agents")
    unknown = sorted(set(document) - {"version", "agents", "unrelated"})
    if unknown:
        hint = ""
        if set(unknown) & ORIGINAL_FORMAT_FIELDS:
            hint = f" (this is the original orchestrator's registry.json: convert it with bin/import_registry {path})"
        raise _fail(path, f"unknown top-level field {unknown[0]!r}{hint}", field=unknown[0])
    agents = document.get("agents")
    if not isinstance(agents, list) or not agents:
        raise _fail(path, "'agents' must be a non-empty list", field="agents")
    seen = set()
    checked = []
    for position, agent in enumerate(agents):
        agent = _check_agent(path, position, agent)
        if agent["id"] in seen:
            raise _fail(path, "duplicate id: every agent needs its own", agent["id"], "id")
        seen.add(agent["id"])
        checked.append(agent)
    return checked


def unrelated_requests(document: dict, path: str) -> list[str]:
    """The registry's `unrelated:` list: requests no agent should take (calibration's negatives)."""
    requests = document.get("unrelated", [])
    if not isinstance(requests, list) or not all(isinstance(r, str) and r.strip() for r in requests):
        raise _fail(path, "'unrelated' must be a list of requests (non-empty strings)", field="unrelated")
    return requests


# ---------------------------------------------------------------- loading and caching


def _parse_yaml(path: str):
    import yaml  # slow import: only when the cache is stale

    from skills.yaml_values import load_yaml

    try:
        with open(path, encoding="utf-8") as handle:
            return load_yaml(handle.read())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise _fail(path, f"is not valid YAML{where}: {problem}") from None
    except UnicodeDecodeError as error:
        raise _fail(path, f"is not UTF-8 text: {error.reason} at byte {error.start}") from None


CODE_FILES = (
    "text.py",
    "routing/lexical.py",
    "routing/model.py",
    "routing/calibration.py",
    "routing/index.py",
    "routing/feedback.py",
    "routing/entities.py",
    "routing/entity_index.py",
)

# What routing learns outside the registry file: each is a marshal file under
# <state_dir>/routing/, written by its own module (entities: names read from the agents'
# data sources; feedback: confirmed corrections). Their identity is part of the cache key, so
# a refreshed file rebuilds the index on the next route; a missing one means "nothing learnt".
ROUTING_INPUTS = ("entities", "feedback")


def routing_input_path(state_dir: str, name: str) -> str:
    return os.path.join(state_dir, "routing", f"{name}.marshal")


def _routing_inputs_identity(state_dir: str | None) -> tuple:
    identity = []
    for name in ROUTING_INPUTS if state_dir else ():
        try:
            info = os.stat(routing_input_path(state_dir, name))
            identity.append((name, info.st_ino, info.st_size, info.st_mtime_ns))
        except OSError:
            identity.append((name, None))
    return tuple(identity)


def read_routing_inputs(state_dir: str | None) -> dict:
    """{name: value} of the routing inputs present; an unreadable one counts as absent."""
    inputs = {}
    for name in ROUTING_INPUTS if state_dir else ():
        try:
            with open(routing_input_path(state_dir, name), "rb") as handle:
                inputs[name] = marshal.loads(handle.read())
        except (OSError, EOFError, ValueError, TypeError):
            continue
    return inputs


def write_routing_input(state_dir: str, name: str, value) -> None:
    """Atomically replace one routing input (marshal-able plain values only)."""
    path = routing_input_path(state_dir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        marshal.dump(value, handle)
    os.replace(temporary, path)


def _code_version() -> tuple:
    """The index depends on the routing and text code too: a changed weight rebuilds it."""
    here = os.path.dirname(os.path.abspath(__file__))
    return tuple(os.stat(os.path.join(here, name)).st_mtime_ns for name in CODE_FILES)


def _path_hash(path: str) -> int:
    """FNV-1a of the path: a stable cache file name without importing zlib or hashlib."""
    value = 0xCBF29CE484222325
    for byte in path.encode("utf-8"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def _cache_path(state_dir: str, path: str) -> str:
    name = f"registry-{_path_hash(path):016x}.index"
    return os.path.join(state_dir, "cache", name)


def build_registry(agents: list[dict], path: str, inputs: dict | None = None) -> dict:
    """The registry with its index; `inputs` are the routing inputs (see ROUTING_INPUTS)."""
    from skills.routing import build_index

    return {"path": path, "agents": agents, "index": build_index(agents, inputs or {})}


def build_from_document(document, path: str, inputs: dict | None = None) -> dict:
    """A parsed registry document validated and built: its agents, and its `unrelated:` list
    handed to calibration beside the routing inputs."""
    agents = validate(document, path)
    inputs = {**(inputs or {}), "unrelated": unrelated_requests(document, path)}
    return build_registry(agents, path, inputs)


class _no_cycle_collection:
    """Building makes millions of small lists, tuples and dicts and no reference cycles; the
    cycle collector walking them all, again and again, is a quarter of a 10,000-agent build."""

    def __enter__(self) -> None:
        import gc  # only when building

        self.gc = gc
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc) -> None:
        if self.was_enabled:
            self.gc.enable()


# (path, state_dir) -> (key, registry): what this process last loaded, for warm workers
_loaded: dict[tuple, tuple] = {}


def _cache_key(path: str, state_dir: str | None) -> tuple:
    try:
        info = os.stat(path)
    except OSError:
        raise RegistryInvalid(
            f"registry file {path} not found: set ORCHESTRATOR_REGISTRY or restore registry/agents.yaml",
            details={"file": path},
        ) from None
    return (
        CACHE_FORMAT,
        path,
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
        _code_version(),
        _routing_inputs_identity(state_dir),
    )


def _built_in_child(build_and_write) -> bool:
    """Run `build_and_write()` in a forked child; True when it succeeded.

    Building a big registry's index peaks at hundreds of MB, which a long-lived worker would
    keep; a child gives it all back when it exits. The child leads its own session, so a worker
    killed for its time limit (with its process group) does not take the build with it: the
    next worker finds the file written. Not in a process with threads (fork keeps only one).
    """
    threading = sys.modules.get("threading")
    if not hasattr(os, "fork") or (threading is not None and threading.active_count() > 1):
        return False
    child = os.fork()
    if child == 0:
        status = 1
        try:
            os.setsid()
            import gc

            gc.disable()  # see _no_cycle_collection; this process ends with the build
            status = 0 if build_and_write() else 1
        finally:
            os._exit(status)  # no atexit handlers, no flushing the parent's buffered output
    _, status = os.waitpid(child, 0)
    return status == 0


def _build_once(cache_path: str, key: tuple, rebuild) -> bool:
    """Write the index file unless another process, holding the build lock before us, just did:
    after an edit every warm worker asks at once, and one build at a time is all 2 cores need."""
    import fcntl

    from skills.routing import store

    try:
        os.makedirs(os.path.dirname(cache_path), exist_ok=True)
        lock = open(f"{cache_path}.lock", "a")  # noqa: SIM115 - held until the build is written
    except OSError:
        return store.write(cache_path, rebuild(), key)  # cannot lock here: cannot write either
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if store.open_registry(cache_path, key, rebuild) is not None:
            return True
        return store.write(cache_path, rebuild(), key)


def _load_uncached(path: str, state_dir: str | None, key: tuple) -> dict:
    """From the index file when it is current, else from the YAML (then written for the next process)."""
    from skills.routing import store

    def rebuild() -> dict:
        with _no_cycle_collection():
            return build_from_document(_parse_yaml(path), path, read_routing_inputs(state_dir))

    cache_path = _cache_path(state_dir, path) if state_dir else None
    if cache_path:
        registry = store.open_registry(cache_path, key, rebuild)
        if registry is None and _built_in_child(lambda: _build_once(cache_path, key, rebuild)):
            registry = store.open_registry(cache_path, key, rebuild)
        if registry is not None:
            return registry
    registry = rebuild()  # here too when the child could not: its error, or a read-only state dir
    with _no_cycle_collection():
        written = cache_path is not None and store.write(cache_path, registry, key)
    if written:
        # serve this process from the file too: a long-lived worker then holds only the
        # pieces it has used, not the whole index (hundreds of MB at 10,000 agents)
        return store.open_registry(cache_path, key, rebuild) or registry
    return registry  # a read-only state dir costs speed, never routes


def load_registry(path: str, state_dir: str | None = None) -> dict:
    """The validated registry with its routing index: {"path", "agents", "index"}.

    `agents` is a sequence by position and each table of `index` answers `.get`/`[]`/`in`;
    both may be read from disk piece by piece (skills/routing/store.py).
    """
    path = os.path.abspath(path)
    key = _cache_key(path, state_dir)
    remembered = _loaded.get((path, state_dir))
    if remembered is not None and remembered[0] == key:
        return remembered[1]
    registry = _load_uncached(path, state_dir, key)
    _loaded[(path, state_dir)] = (key, registry)
    return registry


# ---------------------------------------------------------------- lookups


def find_agent(registry: dict, agent_id: str) -> dict:
    agents = registry["agents"]
    position_of = getattr(agents, "position_of", None)
    if position_of is not None:  # an index file: no need to read every agent
        position = position_of(agent_id)
        if position is not None:
            return agents[position]
    else:
        for agent in agents:
            if agent["id"] == agent_id:
                return agent
    known = ", ".join(a["id"] for a in agents)
    raise AgentNotFound(f"no agent {agent_id!r}; known agents: {known}", field="agent")


def format_cost(cost: float) -> str:
    """The guide's "$0.001" form."""
    return "$" + (f"{cost:.6f}".rstrip("0").rstrip(".") if cost else "0")
