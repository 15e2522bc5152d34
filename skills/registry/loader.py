"""Loading the agent registry (registry/agents.yaml), with a cache; validating it is registry_validation.py.

Parsing YAML and building the routing index cost far more than a route, so the built registry
is kept in two places, both keyed on the file's identity (path, inode, size, modification
time), the routing code's and the routing inputs' (see ROUTING_INPUTS):
- on disk, as an index file under the state directory that a fresh process reads only the
  pieces of that one route needs (skills/routing/index_file.py);
- in memory, for a long-lived process (a `--jsonl` worker): each request then only checks
  the key (a few `stat` calls) and reuses what it has.
A changed file has a new key and is re-read at once; PyYAML is imported only then.
"""

import fcntl
import gc
import marshal
import os
import sys
import time

from skills import lazy
from skills.errors import AgentNotFound, RegistryInvalid
from skills.registry.validation import invalid, unrelated_requests
from skills.registry.validation import validate as check
from skills.routing import index_file as store

CACHE_FORMAT = 6  # bump when the cached structure or the index changes shape


def validate(document, path: str) -> list[dict]:
    """The agents of a parsed registry document, or RegistryInvalid naming the agent and field.

    The checks live in skills/registry/validation.py."""
    return check(document, path)


# ---------------------------------------------------------------- loading and caching


def _parse_yaml(path: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return lazy.registry_yaml.load_yaml(handle.read())
    except lazy.yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise invalid(path, f"is not valid YAML{where}: {problem}") from None
    except UnicodeDecodeError as error:
        raise invalid(path, f"is not UTF-8 text: {error.reason} at byte {error.start}") from None


CODE_FILES = (
    "text.py",
    "routing/lexical.py",
    "routing/model.py",
    "routing/fitting.py",
    "routing/calibration.py",
    "routing/index.py",
    "routing/feedback.py",
    "routing/names/evidence.py",
    "routing/names/index.py",
)

# What routing learns outside the registry file: each is a marshal file under
# <state_dir>/routing/, written by its own module (entities: names read from the agents'
# data sources; feedback: confirmed corrections). Their identity is part of the cache key, so
# a refreshed file rebuilds the index on the next route; a missing one means "nothing learnt".
ROUTING_INPUTS = ("entities", "feedback")


def routing_input_path(state_dir: str, name: str) -> str:
    return os.path.join(state_dir, "routing", f"{name}.marshal")


def entity_names_due(settings, index: dict) -> bool:
    """Whether the names read from the agents' data (the `entities` routing input) are older than
    ORCHESTRATOR_ENTITY_TTL and some source they come from can be read: one stat until they are.
    Every route asks; only a due refresh loads skills/routing/names/refresh.py and the readers."""
    backends = index.get("entity_backends")
    if not backends or settings.entity_ttl_s <= 0:
        return False
    try:
        age = time.time() - os.stat(routing_input_path(settings.state_dir, "entities")).st_mtime
    except OSError:
        age = None  # never read
    if age is not None and age < settings.entity_ttl_s:
        return False
    return any(settings.data_source_unavailable(backend) is None for backend in backends)


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
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # skills/
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


def _unique(words: list[str]) -> list[str]:
    return list(dict.fromkeys(words))


def _telling(word: str) -> bool:
    """A phrase ("project manager") or an abbreviation in capitals ("PM", "ETA"): telling on its own.
    One everyday word ("town", "reason", "late") is not."""
    return " " in word.strip() or (word.isupper() and len(word) >= 2)


def routing_view(agent: dict) -> dict:
    """The agent as routing sees it: a data agent's words for its tables count as its triggers ("POs",
    "subbies", "rollouts"), and so do its telling words for columns ("PM", "phone number"); other column
    words and the words for stored values only beside other evidence ("town" or "outstanding" alone
    says little)."""
    lexicon = agent.get("lexicon")
    if not lexicon:
        return agent
    columns = [w for words in lexicon["columns"].values() for w in words]
    columns += [w for section in ("totals", "conditions") for words in lexicon.get(section, {}).values() for w in words]
    strong = [w for words in lexicon["tables"].values() for w in words] + [w for w in columns if _telling(w)]
    weak = [w for w in columns if not _telling(w)]
    weak += [w for by_value in lexicon["values"].values() for words in by_value.values() for w in words]
    return {
        **agent,
        "triggers": _unique([*agent["triggers"], *strong]),
        "weak_triggers": _unique([*agent.get("weak_triggers", []), *weak]),
    }


def build_registry(agents: list[dict], path: str, inputs: dict | None = None, **parallel) -> dict:
    """The registry with its index; `inputs` are the routing inputs (see ROUTING_INPUTS);
    `parallel`: tables_done and in_background, see skills/routing/index.py's build_index."""
    index = lazy.routing_index.build_index([routing_view(agent) for agent in agents], inputs or {}, **parallel)
    return {"path": path, "agents": agents, "index": index}


def attach_lexicons(agents: list[dict], path: str) -> list[dict]:
    """Each data agent's lexicon (`data.lexicon`, relative to the registry file) read into its entry as
    plain values under `lexicon`: routing counts its words, execution hands it to the interpreter."""
    from skills.answers.lexicon import lexicon_path, load_lexicon, to_json  # only when the index is built

    for agent in agents:
        relative = (agent.get("data") or {}).get("lexicon")
        if relative:
            lexicon = load_lexicon(path, relative, agent["id"])
            agent["lexicon"] = {**to_json(lexicon), "file": lexicon_path(path, relative)}
    return agents


def build_from_document(document, path: str, inputs: dict | None = None, **parallel) -> dict:
    """A parsed registry document validated and built: its agents, and its `unrelated:` list
    handed to calibration beside the routing inputs (`parallel`: see build_registry)."""
    agents = attach_lexicons(validate(document, path), path)
    inputs = {**(inputs or {}), "unrelated": unrelated_requests(document, path)}
    return build_registry(agents, path, inputs, **parallel)


class _no_cycle_collection:
    """Building makes millions of small lists, tuples and dicts and no reference cycles; the
    cycle collector walking them all, again and again, is a quarter of a 10,000-agent build."""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc) -> None:
        if self.was_enabled:
            gc.enable()


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
        _lexicons_identity(path),
    )


LEXICON_DIR = "lexicon"  # beside the registry file: an edited lexicon there rebuilds the index


def _lexicons_identity(path: str) -> tuple:
    """The lexicons' files (registry/lexicon/*.yaml) are read with the registry, so they key its cache
    too: a listdir and a stat each. A lexicon kept elsewhere is re-read when the registry changes."""
    folder = os.path.join(os.path.dirname(path), LEXICON_DIR)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return ()
    identity = []
    for name in names:
        try:
            info = os.stat(os.path.join(folder, name))
        except OSError:
            continue
        identity.append((name, info.st_ino, info.st_size, info.st_mtime_ns))
    return tuple(identity)


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
            gc.disable()  # see _no_cycle_collection; this process ends with the build
            status = 0 if build_and_write() else 1
        finally:
            os._exit(status)  # no atexit handlers, no flushing the parent's buffered output
    _, status = os.waitpid(child, 0)
    return status == 0


def _build_once(cache_path: str, key: tuple, rebuild) -> bool:
    """Write the index file unless another process, holding the build lock before us, just did:
    after an edit every warm worker asks at once, and one build at a time is all 2 cores need."""
    try:
        os.makedirs(os.path.dirname(cache_path), exist_ok=True)
        lock = open(f"{cache_path}.lock", "a")  # noqa: SIM115 - held until the build is written
    except OSError:
        return lazy.index_writer.write(cache_path, rebuild(), key)  # cannot lock here: cannot write either
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if store.open_registry(cache_path, key, rebuild) is not None:
            return True
        return _build_and_write(cache_path, key, rebuild)


def _build_and_write(cache_path: str, key: tuple, rebuild) -> bool:
    """Build and write the index file using a second core: the trigger tables are built (and
    encoded) while the example model is fitted, the biggest table encoded while calibration runs
    (skills/routing/index_file_writer.py: ParallelWriter)."""
    writer = lazy.index_writer.ParallelWriter()
    registry = rebuild(tables_done=writer.tables_done, in_background=writer.start)
    return lazy.index_writer.write(cache_path, registry, key, writer.encoded())


def _load_uncached(path: str, state_dir: str | None, key: tuple) -> dict:
    """From the index file when it is current, else from the YAML (then written for the next process)."""

    def rebuild(**parallel) -> dict:
        with _no_cycle_collection():
            return build_from_document(_parse_yaml(path), path, read_routing_inputs(state_dir), **parallel)

    cache_path = _cache_path(state_dir, path) if state_dir else None
    if cache_path:
        registry = store.open_registry(cache_path, key, rebuild)
        if registry is None and _built_in_child(lambda: _build_once(cache_path, key, rebuild)):
            registry = store.open_registry(cache_path, key, rebuild)
        if registry is not None:
            return registry
    registry = rebuild()  # here too when the child could not: its error, or a read-only state dir
    with _no_cycle_collection():
        written = cache_path is not None and lazy.index_writer.write(cache_path, registry, key)
    if written:
        # serve this process from the file too: a long-lived worker then holds only the
        # pieces it has used, not the whole index (hundreds of MB at 10,000 agents)
        return store.open_registry(cache_path, key, rebuild) or registry
    return registry  # a read-only state dir costs speed, never routes


def load_registry(path: str, state_dir: str | None = None) -> dict:
    """The validated registry with its routing index: {"path", "agents", "index"}.

    `agents` is a sequence by position and each table of `index` answers `.get`/`[]`/`in`;
    both may be read from disk piece by piece (skills/routing/index_file.py).
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
