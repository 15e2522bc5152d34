"""Answering a data agent's question: the interpreter first, the model only for what it cannot read.

A data agent (registry `data:`) is answered from its database's own schema and its lexicon
(skills/answers/): `interpret` gives one SQL query that accounts for every content word of the
question, or says why not. Then:
- a Reading: its SQL runs read-only on the agent's own database (rows and bytes capped) and the
  reply carries `response` (the interpreter's `say`), `interpretation`, `sql` as run (parameters
  inline) and `data` (the rows as objects): mode "direct", no model, cost 0, with a key or not;
- read_only (a request to change data), ambiguous (several readings, in `options`), not_found (a
  name the data does not hold): refused in words on both paths, no tool run, no model asked;
- model_required (words it does not understand): offline, the catalogue tools may still answer
  ("describe table rfqs", SQL in backticks) else the refusal names the words; with ANTHROPIC_API_KEY
  the model answers, its system prompt holding a compact summary of the schema and the lexicon and
  its tools the generic data tools (skills/answers/data_tools.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import replace

from skills.answers.model import Lexicon, Reading, Refusal, Schema, parse_condition
from skills.answers.schema_cache import agent_lexicon, cached_schema, check_lexicon, read_schema_in
from skills.errors import Ambiguous, ModelRequired, NotFound, ReadOnly, RegistryInvalid
from skills.execution.request import read_in_this_request

log = logging.getLogger(__name__)
SUMMARY_CHARS_PER_TOKEN = 4  # a rough, safe measure of English and SQL names


def agent_tools_module(agents_dir: str, agent: dict) -> bool:
    """Whether the agent brings its own tools (agents/<id>/tools.py); a data agent need not."""
    return os.path.isfile(os.path.join(agents_dir, agent["id"], "tools.py"))


def agent_tools(agents_dir: str, agent: dict) -> dict:
    """The agent's tools by name: its own module's, else (a data agent) the generic data tools."""
    from skills.execution.tools import load_agent_tools

    if agent.get("data") and not agent_tools_module(agents_dir, agent):
        from skills.answers.data_tools import TOOLS

        return dict(TOOLS)
    return load_agent_tools(agents_dir, agent["id"])


def default_prompt(agent: dict) -> str:
    """The system prompt of a data agent without a prompt.md: what it is for, from the registry."""
    return (
        f"You are {agent['name']}. {agent['description']}\n"
        "Answer from the database with the tools given: read-only SQL only. Say plainly when the data "
        "does not hold what was asked; never invent rows, names or figures. Nothing can be changed "
        "through you: a request to change data is refused."
    )


# ---------------------------------------------------------------- reading the question


def _schema(settings, agent: dict, deadline: float | None) -> Schema:
    from skills.backends.database import ReadOnlySession

    schema = cached_schema(settings, agent)
    if schema is None:
        with ReadOnlySession(settings.for_data(agent["data"]), deadline=deadline) as db:
            schema = read_schema_in(db, agent, check=False)
    try:
        check_lexicon(agent, schema)
    except RegistryInvalid as error:
        # a database of another shape than the lexicon was written for: its words that name nothing
        # here are left out (bin/refresh_entities reports them), the rest of the agent keeps working
        log.warning("%s; those lexicon entries are ignored", error.message)
    return schema


def fitted_lexicon(agent: dict, schema: Schema) -> Lexicon:
    """The agent's lexicon without the entries that name a table or column this database lacks."""
    lexicon = agent_lexicon(agent)

    def held(key: str) -> bool:
        table_name, _, column_name = key.partition(".")
        table = schema.table(table_name)
        return table is not None and (not column_name or table.column(column_name) is not None)

    def held_condition(key: str) -> bool:
        condition = parse_condition(key)
        return held(f"{condition.summed or condition.table}.{condition.column}") and held(
            f"{condition.table}.{condition.other}"
        )

    return Lexicon(
        {table: words for table, words in lexicon.tables.items() if held(table)},
        {key: words for key, words in lexicon.columns.items() if held(key)},
        {key: values for key, values in lexicon.values.items() if held(key)},
        {key: words for key, words in lexicon.totals.items() if held(key)},
        {key: words for key, words in lexicon.conditions.items() if held_condition(key)},
    )


def reading_inputs(settings, agent: dict, deadline: float | None) -> tuple[Schema, Lexicon, str]:
    """What the interpreter reads a question against: the schema, the lexicon fitted to it, and the
    directory its vocabulary is kept in."""
    schema = _schema(settings, agent, deadline)
    return schema, fitted_lexicon(agent, schema), os.path.join(settings.state_dir, "answers")


def read_question(settings, agent: dict, query: str, deadline: float | None) -> tuple[Reading | Refusal, Schema]:
    """(the interpreter's reading of `query` or its refusal, the schema it was read against)."""
    from skills.answers.interpreter import interpret

    read = read_in_this_request()
    key = (agent["id"], query)
    if read is not None and key in read:
        return read[key]
    schema, lexicon, kept = reading_inputs(settings, agent, deadline)
    reading = interpret(query, schema, lexicon, today=dt.date.today(), vocabulary_dir=kept)
    if isinstance(reading, Refusal) and reading.code == "ambiguous":
        reading = same_result(settings, agent, reading, deadline) or reading
    if read is not None:
        read[key] = (reading, schema)
    return reading, schema


def same_result(settings, agent: dict, refusal: Refusal, deadline: float | None) -> Reading | Refusal | None:
    """An ambiguous question whose few readings are run and compared. All giving the same rows: one
    answer, the first reading, saying the others. Different rows: the refusal again, each option
    followed by what it gives ("...: 33"), so the asker sees the difference. None: not compared (a
    capped result, or one that asks for one row and has several)."""
    if refusal.code != "ambiguous" or len(refusal.readings) < 2:
        return None
    from skills.backends.database import ReadOnlySession

    results = []
    with ReadOnlySession(settings.for_data(agent["data"]), deadline=deadline) as db:
        for reading in refusal.readings:
            result = db.query(reading.sql, reading.params or None, byte_cap=settings.sql_result_bytes)
            if result.truncated or reading.one and len(result.rows) > 1:
                return None
            results.append((list(result.columns), [tuple(row.get(c) for c in result.columns) for row in result.rows]))
    compared = [(tuple(columns), sorted(repr(row) for row in rows)) for columns, rows in results]
    if any(result != compared[0] for result in compared[1:]) or len({r.shape for r in refusal.readings}) > 1:
        shared = set.intersection(*(set(columns) for columns, _ in results))
        options = tuple(
            f"{reading.interpretation}: {_gives(reading, columns, rows, shared)}"
            for reading, (columns, rows) in zip(refusal.readings, results, strict=True)
        )
        return replace(
            refusal,
            message=f"{refusal.message}, with different results: {'; '.join(options)}. Ask again in the words of the one you mean",
            options=options,
        )
    first = refusal.readings[0]
    others = "; ".join(r.interpretation for r in refusal.readings[1:])
    return replace(first, interpretation=f"{first.interpretation} (also read as: {others}; the same result)")


def _gives(reading: Reading, columns: list[str], rows: list[tuple], shared: set[str]) -> str:
    """What one reading of an ambiguous question gives, short: a number, Yes/No, how many rows, or of
    one row the fields the readings do not share ("planned end" against "forecast end"), else its name."""
    from skills.answers.interpreter import say

    if reading.shape in ("count", "aggregate", "yes_no"):
        return say(reading, columns, rows, False).split(":")[0]
    if len(rows) != 1:
        return f"{len(rows)} rows"
    own = [
        "no value" if value is None else str(value)
        for column, value in zip(columns, rows[0], strict=True)
        if column not in shared
    ]
    return ", ".join(own) or str(rows[0][0])


def refusal_error(agent: dict, refusal: Refusal):
    """The error of the family for a refusal (model_required included: the offline path's answer)."""
    if refusal.code == "read_only":
        return ReadOnly(
            refusal.message or f"Nothing was changed: {agent['name']} only reads this database.",
            details={"agent": agent["id"]},
        )
    if refusal.code == "ambiguous":
        return Ambiguous(refusal.message, details={"options": list(refusal.options)})
    if refusal.code == "not_found":
        error = NotFound("thing", refusal.words[0] if refusal.words else "")
        error.message = refusal.message or error.message
        error.args = (error.message,)
        error.details["words"] = list(refusal.words)
        return error
    words = ", ".join(repr(word) for word in refusal.words)
    message = refusal.message or f"{agent['name']} cannot read this question"
    if refusal.words and not all(word in message for word in refusal.words):
        message += f" (words it does not understand: {words})"
    return ModelRequired(
        f"{message}. Set ANTHROPIC_API_KEY to let Claude answer it, or ask again in the words of the data.",
        details={"words": list(refusal.words)},
    )


# ---------------------------------------------------------------- answering a reading

MAX_OPTIONS = 10  # rows named in an ambiguous answer


def answer_reading(settings, agent: dict, reading: Reading, deadline: float | None) -> dict:
    """Run the reading's one SELECT read-only on the agent's database: the answer's parts as plain values."""
    from skills.answers.interpreter import say
    from skills.backends.database import ReadOnlySession

    scoped = settings.for_data(agent["data"])
    with ReadOnlySession(scoped, deadline=deadline) as db:
        shown = db.mogrify(reading.sql, reading.params or None)
        result = db.query(reading.sql, reading.params or None, byte_cap=settings.sql_result_bytes)
    rows = [tuple(row.get(column) for column in result.columns) for row in result.rows]
    if reading.guesses and _nothing(reading, rows):
        # "Which suppliers supply poles?" with "supply" taken for part of a company's name: no rows then
        # says only that the guess was wrong, not that there are none
        raise ModelRequired(
            f"nothing matches, and the question was read with a name guessed from part of its words "
            f"({'; '.join(reading.guesses)}): no answer is better than a wrong 'none'. "
            "Set ANTHROPIC_API_KEY to let Claude answer it, or give the name in full.",
            details={"words": [guess.split("'")[1] for guess in reading.guesses]},
        )
    if reading.shape == "yes_no" and reading.one and not rows:  # "Is the Atlantis project on hold?": no such project
        error = NotFound(reading.table.replace("_", " "), "")
        error.message = f"no such {reading.table.replace('_', ' ')}: nothing matches ({reading.interpretation}), so there is no Yes or No"
        error.args = (error.message,)
        raise error
    if reading.one and len(rows) > 1:  # "the Durban project", and two are: which one is not ours to pick
        options = [" ".join(str(value) for value in row[:2] if value is not None) for row in rows[:MAX_OPTIONS]]
        raise Ambiguous(
            f"the question speaks of one, and {len(rows)}{'+' if result.truncated else ''} match: "
            f"{'; '.join(options)}. Name the one you mean.",
            details={"options": options},
        )
    return {
        "response": say(reading, list(result.columns), rows, result.truncated),
        "interpretation": reading.interpretation,
        "sql": shown,
        "data": result.rows,
        "truncated": result.truncated,
    }


def _nothing(reading: Reading, rows: list[tuple]) -> bool:
    """Whether the result says "none": no rows, a count of 0, a No."""
    if not rows:
        return True
    return reading.shape in ("count", "yes_no") and not rows[0][0]


# ---------------------------------------------------------------- the model's view of the data


def _column_text(column) -> str:
    text = f"{column.name} {column.type}"
    if column.values:
        text += " in (" + "|".join(column.values[:12]) + ("|..." if len(column.values) > 12 else "") + ")"
    return text


def schema_summary(schema: Schema, lexicon, budget_tokens: int) -> str:
    """The tables, columns (with their value lists), keys and the lexicon's words in a few lines, cut to
    `budget_tokens`: what the model needs to write the SQL itself, without a describe call per table."""
    lines = ["The database (read-only; PostgreSQL):"]
    for table in schema.tables:
        keys = [f"{','.join(k.columns)} -> {k.ref_table}({','.join(k.ref_columns)})" for k in table.foreign_keys]
        line = f"- {table.name}(" + ", ".join(_column_text(c) for c in table.columns) + ")"
        if table.primary_key:
            line += f" key {','.join(table.primary_key)}"
        if keys:
            line += "; " + "; ".join(keys)
        lines.append(line)
    words = [f"{', '.join(w)} = table {t}" for t, w in lexicon.tables.items()]
    words += [f"{', '.join(w)} = {c}" for c, w in lexicon.columns.items()]
    words += [f"{', '.join(w)} = {c} '{v}'" for c, by in lexicon.values.items() for v, w in by.items()]
    words += [f"{', '.join(w)} = sum({c})" for c, w in lexicon.totals.items()]
    words += [f"{', '.join(w)} = {c}" for c, w in lexicon.conditions.items()]
    if words:
        lines.append("Words people use for them:")
        lines += [f"- {w}" for w in words]
    budget = max(200, budget_tokens * SUMMARY_CHARS_PER_TOKEN)
    kept, used = [], 0
    for number, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            kept.append(f"(... {len(lines) - number} more lines left out: use describe_table and list_tables)")
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def system_prompt(settings, agent: dict, schema: Schema, base_prompt: str) -> str:
    summary = schema_summary(schema, fitted_lexicon(agent, schema), settings.schema_summary_tokens)
    return f"{base_prompt}\n\n{summary}"
