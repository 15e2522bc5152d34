"""Converting the original orchestrator's `orchestrator/registry.json` into registry/agents.yaml.

The guide tells teams to add agents to that JSON file, so a team moving over brings one. Its
shape: top-level `registry_version`, `last_updated`, `total_agents`, `agents`,
`agent_categories` ({category: [agent ids]}) and `orchestration_rules`; per agent `id`, `name`,
`path`, `status`, `type` (the category), `description`, `triggers`, `capabilities`
({group: [capability names]}), `model`, `avg_response_time` ("2-5s") and `cost_per_query` ("$0.001").

What becomes what:
- `type` -> `category` (or the agent's entry in `agent_categories` when `type` is missing);
- `cost_per_query` "$0.001" -> 0.001; `triggers` stay triggers;
- `capabilities`: each capability name ("health_check" read as "health check") becomes a
  trigger when only this agent has it, and a weak trigger (evidence only beside other evidence)
  when several agents share it; group names ("monitoring", "analytics") become weak triggers.
  So "list" or "analytics" alone cannot pick an agent;
- `path`, `avg_response_time`, `registry_version`, `last_updated`, `total_agents`,
  `agent_categories` and `orchestration_rules` have no place here and are dropped, each with the
  reason (agents live in agents/<id>/, times are measured by the ledger, routing rules are code).

`convert()` is pure (document in, agents.yaml document and report out); `import_registry()`
reads, converts, validates with the real registry validator, then writes.
"""

from __future__ import annotations

import os

from skills.errors import BadInput
from skills.registry.loader import validate
from skills.registry.validation import STATUSES

DROPPED_TOP_LEVEL = {
    "registry_version": "our registry has its own format version (version: 1)",
    "last_updated": "the file's modification time and git history say this",
    "total_agents": "counted from the agents list",
    "agent_categories": "each agent's category says this (filled from here where 'type' was missing)",
    "orchestration_rules": "routing is code here: keyword evidence, then options when unsure (multiple_matches) "
    "and suggestions when nothing fits (no_match), which is what 'ask the user' means",
}
DROPPED_AGENT_FIELDS = {
    "path": "an agent's code lives in agents/<id>/ (prompt.md, tools.py)",
    "avg_response_time": "measured per agent by the ledger: see workforce_stats (p50_ms, p95_ms)",
}
COPIED_FIELDS = ("id", "name", "description", "status", "model")
DEFAULT_MODEL = "claude-haiku-4-5"
INACTIVE = "inactive"


def _report() -> dict:
    return {"mapped": [], "dropped": [], "defaulted": [], "notes": []}


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{where} must be a non-empty string, got {value!r}", field=where)
    return value.strip()


def _strings(value, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadInput(f"{where} must be a list of strings, got {value!r}", field=where)
    return [item.strip() for item in value if item.strip()]


def parse_price(value, where: str) -> float:
    """ "$0.001", "0.001", "$1,000" or a number -> dollars as a float; BadInput otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        amount = float(value)
    elif isinstance(value, str):
        try:
            amount = float(value.strip().lstrip("$").replace(",", "").strip())
        except ValueError:
            raise BadInput(f'{where} must be a price such as "$0.001", got {value!r}', field=where) from None
    else:
        raise BadInput(f'{where} must be a price such as "$0.001", got {value!r}', field=where)
    if amount < 0:
        raise BadInput(f"{where} must not be negative, got {value!r}", field=where)
    return amount


def _as_words(term: str) -> str:
    return term.replace("_", " ").replace("-", " ").strip().lower()


def capability_terms(capabilities, where: str) -> tuple[list[str], list[str]]:
    """(capability names, group names) as words a user would type ("health_check" -> "health check")."""
    if capabilities is None:
        return [], []
    if isinstance(capabilities, list):  # some files list capabilities flat, without groups
        groups = {"": capabilities}
    elif isinstance(capabilities, dict):
        groups = capabilities
    else:
        raise BadInput(f"{where} must be a mapping of group -> list of capabilities", field=where)
    names = []
    for group, members in groups.items():
        names += _strings(members, f"{where}.{group}" if group else where)
    return _unique(map(_as_words, names)), _unique(_as_words(group) for group in groups if group)


def _unique(values) -> list[str]:
    seen, kept = set(), []
    for value in values:
        if value and value.lower() not in seen:
            seen.add(value.lower())
            kept.append(value)
    return kept


def _category_lookup(document: dict) -> dict[str, str]:
    """agent id -> category from `agent_categories`."""
    categories = document.get("agent_categories") or {}
    if not isinstance(categories, dict):
        raise BadInput("agent_categories must be a mapping of category -> list of agent ids", field="agent_categories")
    lookup = {}
    for category, members in categories.items():
        for agent_id in _strings(members, f"agent_categories.{category}"):
            lookup[agent_id] = category
    return lookup


def _convert_agent(position: int, raw, categories: dict, capability_owners: dict, report: dict) -> dict:
    where = f"agents[{position}]"
    if not isinstance(raw, dict):
        raise BadInput(f"{where} must be an object with id, name, triggers, ...", field=where)
    agent_id = _text(raw.get("id"), f"{where}.id")
    if " " in agent_id:
        raise BadInput(f"{where}.id must be a slug without spaces, got {agent_id!r}", field=f"{where}.id")
    agent = {"id": agent_id}

    def note(kind: str, field: str, **extra) -> None:
        report[kind].append({"agent": agent_id, "field": field, **extra})

    agent["name"] = raw["name"].strip() if isinstance(raw.get("name"), str) and raw["name"].strip() else agent_id
    if agent["name"] == agent_id and raw.get("name") != agent_id:
        note("defaulted", "name", value=agent_id)
    agent["category"] = _category(raw, agent_id, categories, note, where)
    agent["description"] = raw["description"].strip() if isinstance(raw.get("description"), str) else ""
    if not agent["description"]:
        agent["description"] = agent["name"]
        note("defaulted", "description", value=agent["name"])
    agent["status"] = _status(raw.get("status"), note)
    agent["model"] = raw["model"].strip() if isinstance(raw.get("model"), str) and raw["model"].strip() else None
    if agent["model"] is None:
        agent["model"] = DEFAULT_MODEL
        note("defaulted", "model", value=DEFAULT_MODEL)
    agent["cost_per_query"] = _cost(raw, where, note)

    agent["triggers"], weak = _routing_terms(raw, where, capability_owners, note)
    if weak:
        agent["weak_triggers"] = weak
    if not agent["triggers"]:
        raise BadInput(
            f"{where} ({agent_id}) has no triggers, and no capability only it has: nothing would route to it",
            field=f"{where}.triggers",
        )
    _note_dropped_fields(raw, note)
    return agent


def _routing_terms(raw: dict, where: str, capability_owners: dict, note) -> tuple[list[str], list[str]]:
    """(triggers, weak triggers): the original triggers, then capabilities sorted by who has them."""
    triggers = _unique(_strings(raw.get("triggers"), f"{where}.triggers"))
    names, groups = capability_terms(raw.get("capabilities"), f"{where}.capabilities")
    taken = {t.lower() for t in triggers}
    strong = [t for t in names if t not in taken and len(capability_owners.get(t, ())) == 1]
    weak = _unique(t for t in [*names, *groups] if t not in taken and t not in strong)
    if strong:
        note("mapped", "capabilities", to="triggers", value=strong, reason="only this agent has them")
    if weak:
        reason = "shared with other agents, or a group name: they count only beside other evidence"
        note("mapped", "capabilities", to="weak_triggers", value=weak, reason=reason)
    return triggers + strong, weak


def _note_dropped_fields(raw: dict, note) -> None:
    for field, value in raw.items():
        if field in DROPPED_AGENT_FIELDS:
            note("dropped", field, value=value, reason=DROPPED_AGENT_FIELDS[field])
        elif field not in (*COPIED_FIELDS, "type", "cost_per_query", "triggers", "capabilities"):
            note("dropped", field, value=value, reason="not a field of registry/agents.yaml")


def _category(raw: dict, agent_id: str, categories: dict, note, where: str) -> str:
    listed = categories.get(agent_id)
    kind = raw.get("type")
    if kind is not None:
        kind = _text(kind, f"{where}.type")
        note("mapped", "type", to="category", value=kind)
        if listed and listed != kind:
            note("dropped", "agent_categories", value=listed, reason=f"conflicts with type {kind!r}; type wins")
        return kind
    if listed:
        note("mapped", "agent_categories", to="category", value=listed)
        return listed
    note("defaulted", "category", value="general")
    return "general"


def _status(status, note) -> str:
    if status in STATUSES:
        return status
    note("mapped", "status", value=status, now=INACTIVE, reason=f"not one of {', '.join(STATUSES)}")
    return INACTIVE  # an unknown state never routes until someone says it is active


def _cost(raw: dict, where: str, note) -> float:
    if "cost_per_query" not in raw:
        note("defaulted", "cost_per_query", value=0.0)
        return 0.0
    amount = parse_price(raw["cost_per_query"], f"{where}.cost_per_query")
    if not isinstance(raw["cost_per_query"], (int, float)):
        note("mapped", "cost_per_query", value=raw["cost_per_query"], now=amount)
    return amount


def _capability_owners(agents: list) -> dict[str, set]:
    """capability term -> the ids of the agents that have it (as a capability or a trigger)."""
    owners: dict[str, set] = {}
    for position, raw in enumerate(agents):
        if not isinstance(raw, dict):
            continue
        where = f"agents[{position}]"
        terms = capability_terms(raw.get("capabilities"), f"{where}.capabilities")[0]
        terms += [t.lower() for t in _strings(raw.get("triggers"), f"{where}.triggers")]
        for term in terms:
            owners.setdefault(term, set()).add(raw.get("id"))
    return owners


def convert(document, source: str = "registry.json") -> tuple[dict, dict]:
    """(agents.yaml document, report) from the original registry's parsed JSON."""
    if not isinstance(document, dict):
        raise BadInput(f"{source} must hold a JSON object with an 'agents' list", field="file")
    agents = document.get("agents")
    if not isinstance(agents, list) or not agents:
        raise BadInput(f"{source} needs a non-empty 'agents' list", field="agents")
    report = _report()
    categories = _category_lookup(document)
    owners = _capability_owners(agents)
    converted = [_convert_agent(n, raw, categories, owners, report) for n, raw in enumerate(agents)]
    ids = [agent["id"] for agent in converted]
    duplicate = next((agent_id for agent_id in ids if ids.count(agent_id) > 1), None)
    if duplicate:
        raise BadInput(f"agent id {duplicate!r} appears twice in {source}", field="agents")
    _top_level_notes(document, ids, categories, report)
    return {"version": 1, "agents": converted}, report


def _top_level_notes(document: dict, ids: list[str], categories: dict, report: dict) -> None:
    for field, value in document.items():
        if field == "agents":
            continue
        reason = DROPPED_TOP_LEVEL.get(field, "not part of registry/agents.yaml")
        report["dropped"].append({"agent": None, "field": field, "value": value, "reason": reason})
    total = document.get("total_agents")
    if total is not None and total != len(ids):
        report["notes"].append(f"total_agents says {total!r} but the file lists {len(ids)} agents")
    strangers = sorted(set(categories) - set(ids))
    if strangers:
        report["notes"].append(f"agent_categories names agents the file does not define: {', '.join(strangers)}")


def read_json_file(path: str):
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror}", field="file") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise BadInput(f"{path} is not valid JSON: {error}", field="file") from None


def render_yaml(registry: dict, source: str) -> str:
    import yaml

    header = (
        f"# Imported by bin/import_registry from {source} (the original orchestrator's registry.json).\n"
        "# Edit freely: this is an ordinary registry/agents.yaml (its fields are described in that file).\n"
    )
    return header + yaml.safe_dump(registry, sort_keys=False, allow_unicode=True, width=100)


def import_registry(source: str, output: str, *, force: bool = False, agents_dir: str | None = None) -> dict:
    """Convert `source`, check the result with the registry validator, write it; the report."""
    import yaml

    if os.path.exists(output) and not force:
        raise BadInput(
            f"{output} already exists: pass --output with a new path, or --force to replace it", field="output"
        )
    registry, report = convert(read_json_file(source), os.path.basename(source))
    text = render_yaml(registry, os.path.basename(source))
    validate(yaml.safe_load(text), output)  # what route_task will load, checked before it is written
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    temporary = f"{output}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, output)
    needs_code = [
        a["id"] for a in registry["agents"] if agents_dir and not os.path.isdir(os.path.join(agents_dir, a["id"]))
    ]
    if needs_code:
        report["notes"].append(
            "no agents/<id>/ folder for " + ", ".join(needs_code) + ": they route, but executing them needs "
            "agents/<id>/prompt.md and tools.py (see docs/adding-an-agent.md)"
        )
    return {
        "written": os.path.abspath(output),
        "source": os.path.abspath(source),
        "agents": len(registry["agents"]),
        **report,
    }
