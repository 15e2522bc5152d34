"""The data agents' schemas, read once through the read-only connection and kept with the routing names.

Reading a schema (skills/answers/schema.py) is a dozen catalogue queries and a few bounded
SELECTs: too slow to repeat per question, and it changes about as often as the names routing
reads from the same data. So it is read when they are (bin/refresh_entities, and a route once
ORCHESTRATOR_ENTITY_TTL has passed: skills/routing/names/sources.py calls `read_schemas`) and
kept in the same `entities` routing input, under "schemas": {agent_id: Schema.to_json()}.
Execution (skills/execution/data.py) takes it from there (`cached_schema`) and reads it live
(`read_schema_in`) only when it was never read.
"""

from __future__ import annotations

import hashlib
import marshal
from dataclasses import replace

from skills.answers.lexicon import check_against, from_json
from skills.answers.model import Lexicon, Schema
from skills.errors import OrchestratorError
from skills.registry.loader import read_routing_inputs


def agent_lexicon(agent: dict) -> Lexicon:
    """The lexicon the registry build read into the agent's entry (an empty one when it has none)."""
    return from_json(agent.get("lexicon"))


def read_schema_in(db, agent: dict, *, check: bool = True) -> Schema:
    """The agent's tables as the database describes them, inside an open ReadOnlySession; its lexicon
    checked against them (RegistryInvalid naming an entry the schema does not hold)."""
    from skills.answers.schema import read_schema  # the catalogue reader: only when a schema is read

    tables = (agent.get("data") or {}).get("tables")
    cursor = db.cursor()
    try:
        schema = read_schema(cursor, list(tables) if tables else None)
    finally:
        cursor.close()
    if check:
        check_lexicon(agent, schema)
    return replace(schema, fingerprint=_fingerprint(schema.to_json()))


def _fingerprint(raw: dict) -> str:
    """A digest of a schema's JSON: the name its vocabulary is kept under, by content."""
    return hashlib.sha1(marshal.dumps(raw)).hexdigest()


def check_lexicon(agent: dict, schema: Schema) -> None:
    if agent.get("lexicon"):
        check_against(agent_lexicon(agent), schema, agent["lexicon"].get("file", ""), agent["id"])


def read_schemas(settings, agents, previous: dict, deadline: float | None) -> tuple[dict, dict]:
    """({agent_id: schema JSON}, {agent_id: error}) for every data agent; a schema that cannot be read
    keeps the previous one (as names do) and says why, without a secret."""
    from skills.backends.database import ReadOnlySession  # psycopg2: only when a schema is read

    schemas, errors = {}, {}
    for agent in agents:
        data = agent.get("data")
        if not data:
            continue
        scoped = settings.for_data(data)
        if scoped.data_source_unavailable("database"):
            continue
        try:
            with ReadOnlySession(scoped, deadline=deadline) as db:
                schemas[agent["id"]] = read_schema_in(db, agent).to_json()
        except OrchestratorError as error:
            errors[agent["id"]] = f"schema: {error.message}"
            if agent["id"] in previous:
                schemas[agent["id"]] = previous[agent["id"]]
    return schemas, errors


def cached_schema(settings, agent: dict) -> Schema | None:
    """The agent's schema as the last refresh read it, or None when it was never read (or is unreadable)."""
    entities = read_routing_inputs(settings.state_dir).get("entities")
    raw = ((entities or {}).get("schemas") or {}).get(agent["id"]) if isinstance(entities, dict) else None
    if not isinstance(raw, dict):
        return None
    try:
        return Schema.from_json(raw, _fingerprint(raw))
    except (KeyError, TypeError, ValueError):
        return None  # written by an older shape of the cache: read it again
